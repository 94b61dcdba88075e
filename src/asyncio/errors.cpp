#include <asyncio/errors.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace asyncio {

std::string describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const cancelled_error& e) {
    return std::string("cancelled_error: ") + e.what();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

namespace {

std::string summary(const std::string& message, const std::vector<std::exception_ptr>& errors) {
  std::string s = message + " (" + std::to_string(errors.size()) + " sub-exceptions)";
  for (const auto& e : errors) s += "\n  " + describe(e);
  return s;
}

}  // namespace

incomplete_read_error::incomplete_read_error(std::string partial,
                                             std::optional<std::size_t> expected)
    : std::runtime_error(std::to_string(partial.size()) + " bytes read on a total of " +
                         (expected ? std::to_string(*expected) : std::string("undefined")) +
                         " expected bytes"),
      partial(std::move(partial)),
      expected(expected) {}

exception_group::exception_group(const std::string& message, std::vector<std::exception_ptr> errors)
    : std::runtime_error(summary(message, errors)), errors_(std::move(errors)) {}

bool is_cancellation(std::exception_ptr error) noexcept {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const cancelled_error&) {
    return true;
  } catch (const boost::system::system_error& e) {
    return e.code() == boost::asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

}  // namespace asyncio
