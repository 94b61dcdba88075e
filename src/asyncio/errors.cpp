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
