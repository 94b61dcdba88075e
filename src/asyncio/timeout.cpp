#include <asyncio/timeout.hpp>

#include <stdexcept>

namespace asyncio {

timeout_handle::timeout_handle(std::optional<clock::time_point> when) : task_(current_task()) {
  if (!task_) throw std::runtime_error("timeout() must be used inside a task");
  cancelling_ = task_.cancelling();
  reschedule(when);
}

timeout_handle::~timeout_handle() { timer_.cancel(); }

void timeout_handle::reschedule(std::optional<clock::time_point> when) {
  if (state_ != state::pending)
    throw std::runtime_error("cannot reschedule an expired or exited timeout");
  when_ = when;
  timer_.cancel();
  if (!when) return;
  auto& loop = task_.get_loop();
  // The handle is cancelled before this object dies, so the callbacks never see it dead.
  if (*when <= loop.time())
    timer_ = loop.call_soon([this] { on_deadline(); });
  else
    timer_ = loop.call_at(*when, [this] { on_deadline(); });
}

void timeout_handle::on_deadline() {
  task_.cancel();
  state_ = state::expiring;
}

std::exception_ptr timeout_handle::exit(std::exception_ptr error) {
  timer_.cancel();
  const bool ours = state_ == state::expiring;
  state_ = ours ? state::expired : state::exited;
  // Only the cancellation this timeout asked for becomes timeout_error: an outer timeout's or
  // a cancel() from elsewhere still counts above ours and goes on as cancellation.
  if (ours && task_.uncancel() <= cancelling_ && is_cancellation(error))
    return std::make_exception_ptr(timeout_error());
  return error;
}

}  // namespace asyncio
