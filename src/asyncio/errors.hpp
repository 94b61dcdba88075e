#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asyncio {

/// asyncio.CancelledError: thrown at a cancelled task's current await.
///
/// Deliberately *not* derived from std::exception. Since Python 3.8, CancelledError is a
/// BaseException so that `except Exception:` handlers do not swallow cancellation; the C++
/// equivalent is that `catch (const std::exception&)` must not catch it either. Catch it by
/// name (and rethrow) where cleanup is needed, or use `catch (...)`.
class cancelled_error {
public:
  explicit cancelled_error(std::string message = {}) : message_(std::move(message)) {}
  /// The message given to `cancel(msg)`, or "" (Python's `CancelledError.args`).
  const char* what() const noexcept { return message_.c_str(); }

private:
  std::string message_;
};

/// asyncio.TimeoutError (TimeoutError since 3.11).
class timeout_error : public std::runtime_error {
public:
  timeout_error() : std::runtime_error("timed out") {}
  using std::runtime_error::runtime_error;
};

/// asyncio.InvalidStateError: e.g. the result of a future that is not done yet.
class invalid_state_error : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

/// asyncio.QueueEmpty: get_nowait() on an empty queue.
class queue_empty : public std::runtime_error {
public:
  queue_empty() : std::runtime_error("queue is empty") {}
};

/// asyncio.QueueFull: put_nowait() on a full queue.
class queue_full : public std::runtime_error {
public:
  queue_full() : std::runtime_error("queue is full") {}
};

/// asyncio.QueueShutDown (3.13): put or get on a queue that was shut down.
class queue_shut_down : public std::runtime_error {
public:
  queue_shut_down() : std::runtime_error("queue is shut down") {}
};

/// asyncio.BrokenBarrierError: the barrier was aborted or reset while waiting.
class broken_barrier_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// asyncio.IncompleteReadError: the stream ended before the bytes asked for arrived. `partial`
/// holds what did arrive; `expected` the count asked for (none for readuntil()).
class incomplete_read_error : public std::runtime_error {
public:
  incomplete_read_error(std::string partial, std::optional<std::size_t> expected);
  std::string partial;
  std::optional<std::size_t> expected;
};

/// asyncio.LimitOverrunError: readuntil() met the buffer limit before the separator. The
/// data stays in the buffer; `consumed` is how many bytes to drop to get past it.
class limit_overrun_error : public std::runtime_error {
public:
  limit_overrun_error(const std::string& message, std::size_t consumed)
      : std::runtime_error(message), consumed(consumed) {}
  std::size_t consumed;
};

/// ssl.SSLError: a TLS handshake or record failed (a bad or expired certificate, a name that
/// does not match, no common protocol...). what() says so in OpenSSL's words; `reason` is
/// OpenSSL's reason alone ("certificate verify failed: certificate has expired").
class ssl_error : public std::runtime_error {
public:
  ssl_error(const std::string& what, std::string reason)
      : std::runtime_error(what + ": " + reason), reason(std::move(reason)) {}
  std::string reason;
};

/// Several errors at once (Python's ExceptionGroup): a task_group whose children failed.
/// Deliberate difference: C++ has no `except*`, so a task_group with a single error throws
/// that error itself, and only several arrive grouped.
class exception_group : public std::runtime_error {
public:
  exception_group(const std::string& message, std::vector<std::exception_ptr> errors);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }

private:
  std::vector<std::exception_ptr> errors_;
};

/// What an exception_ptr holds, for log lines: what() for std::exception and cancelled_error.
std::string describe(std::exception_ptr error);

/// True for cancelled_error, and for Asio's operation_aborted, which is how raw Asio
/// operations report cancellation; the wrappers turn the latter into the former.
bool is_cancellation(std::exception_ptr error) noexcept;

}  // namespace asyncio
