#include "aadap/memory/huge_page_allocator.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace aadap::memory::huge_pages {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t rounded(std::size_t bytes) {
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

}  // namespace

void* allocate(std::size_t bytes) {
  // One huge page more than needed, to cut an aligned block out of the mapping.
  const std::size_t size = rounded(bytes);
  void* mapped =
      ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const auto aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) ::munmap(mapped, aligned - start);
  const std::uintptr_t end = start + size + kHugePage;
  if (end > aligned + size) ::munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
  auto* block = reinterpret_cast<void*>(aligned);
  ::madvise(block, size, MADV_HUGEPAGE);  // advice only: without THP it is ordinary memory
  return block;
}

void deallocate(void* block, std::size_t bytes) noexcept {
  ::munmap(block, rounded(bytes));
}

}  // namespace aadap::memory::huge_pages
