// A scripted HTTP/1.1 server on loopback for the platform client tests: real sockets, real
// libcurl on the other side, answers taken from a script in order.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aadap::testing {

/// Answers each request with the next scripted response (the last one repeats); keeps
/// connections alive; counts connections and requests. "RESET" closes without answering.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<std::string> script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener_, 64);
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~ScriptedServer() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : workers_) t.join();
  }
  std::string url(const std::string& path = "/x") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }
  int requests() const { return requests_; }
  std::string last_request() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  /// The request lines ("GET /path HTTP/1.1") of every request, in order.
  std::vector<std::string> request_lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  /// Every request whole (request line, headers and body), in order.
  std::vector<std::string> requests_seen() {
    std::lock_guard lock(mutex_);
    return all_;
  }
  /// Replaces what is left of the script: answers that name the server's own URL (a
  /// Location, a next-page link) can only be written once it listens.
  void set_script(std::deque<std::string> script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }

  static std::string response(int status, const std::string& body,
                              const std::string& headers = "") {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + headers + "\r\n" +
           body;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      ++connections_;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, client] { serve(client); });
    }
  }
  void serve(int client) {
    std::string buffer;
    char chunk[4096];
    for (;;) {
      const auto end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) {
        const auto got = ::recv(client, chunk, sizeof chunk, 0);
        if (got <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(got));
        continue;
      }
      std::size_t length = 0;
      if (const auto at = buffer.find("Content-Length: "); at != std::string::npos && at < end) {
        length = std::stoul(buffer.substr(at + 16));
      }
      while (buffer.size() < end + 4 + length) {
        const auto got = ::recv(client, chunk, sizeof chunk, 0);
        if (got <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(got));
      }
      std::string answer;
      {
        std::lock_guard lock(mutex_);
        last_ = buffer.substr(0, end + 4 + length);
        lines_.push_back(last_.substr(0, last_.find("\r\n")));
        all_.push_back(last_);
        answer = script_.front();
        if (script_.size() > 1) script_.pop_front();
      }
      ++requests_;
      buffer.erase(0, end + 4 + length);
      if (answer == "RESET") break;
      ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
    ::close(client);
  }

  std::deque<std::string> script_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::string last_;
  std::vector<std::string> lines_;
  std::vector<std::string> all_;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace aadap::testing
