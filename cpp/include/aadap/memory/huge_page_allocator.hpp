// An allocator for the large, long-lived float matrices of the vector memory: blocks of 2 MiB
// and more are mapped on their own and advised as transparent huge pages, so filling a
// 600 MB matrix takes about 300 page faults instead of 150,000 (the kernel's default
// `madvise` mode gives huge pages only to memory that asks). Smaller blocks come from the heap.
#pragma once

#include <cstddef>
#include <new>

namespace aadap::memory {

namespace huge_pages {
/// At least `bytes`, aligned to 2 MiB, from mmap with MADV_HUGEPAGE; throws std::bad_alloc.
void* allocate(std::size_t bytes);
void deallocate(void* block, std::size_t bytes) noexcept;
inline constexpr std::size_t kThreshold = std::size_t{2} << 20;
}  // namespace huge_pages

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= huge_pages::kThreshold) return static_cast<T*>(huge_pages::allocate(bytes));
    return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
  }
  void deallocate(T* block, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= huge_pages::kThreshold) {
      huge_pages::deallocate(block, bytes);
    } else {
      ::operator delete (block, std::align_val_t{alignof(T)});
    }
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace aadap::memory
