#pragma once

#include <exception>
#include <optional>

namespace asyncio {

/// How an awaitable ended: `error`, or `value` (none for void); `get()` gives the value or
/// rethrows. What gather(return_exceptions, ...) gives per child (a cancelled child holds its
/// cancelled_error), and what every await of the library completes with inside.
template <class T>
struct outcome {
  std::exception_ptr error;
  std::optional<T> value = std::nullopt;  // initialised, so that {error} does not warn

  bool has_value() const noexcept { return !error; }
  T get() && {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct outcome<void> {
  std::exception_ptr error;

  bool has_value() const noexcept { return !error; }
  void get() && {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace asyncio
