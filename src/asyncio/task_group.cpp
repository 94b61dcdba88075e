#include <asyncio/task_group.hpp>

#include <algorithm>
#include <stdexcept>

namespace asyncio {

task_group::task_group() : parent_(current_task()) {
  if (!parent_) throw std::runtime_error("task_group must be used inside a task");
}

void task_group::check_open() const {
  if (aborting_) throw std::runtime_error("task_group is shutting down");
  if (exiting_ && children_.empty()) throw std::runtime_error("task_group is finished");
}

void task_group::adopt(task<> child) {
  children_.push_back(child);
  // The group outlives every callback: exit() waits until each child has reported here.
  child.add_done_callback([this](const task<>& done) { on_child_done(done); });
}

void task_group::abort() {
  aborting_ = true;
  for (auto& t : children_)
    if (!t.done()) t.cancel();
}

void task_group::on_child_done(const task<>& child) {
  std::erase(children_, child);
  if (children_.empty() && all_done_ && !all_done_->done()) all_done_->set_result();
  if (child.cancelled()) return;
  auto error = child.exception();
  if (!error) return;
  errors_.push_back(error);
  // A failure while the body still runs: cancel it too, and take that cancel back on exit.
  if (!aborting_ && !parent_cancel_requested_) {
    abort();
    parent_cancel_requested_ = true;
    parent_.cancel();
  }
}

coroutine<void> task_group::exit(std::exception_ptr body_error) {
  exiting_ = true;
  const bool body_cancelled = is_cancellation(body_error);
  std::exception_ptr propagate_cancel = body_cancelled ? body_error : nullptr;
  if (body_error && !aborting_) abort();  // the body failed, or the caller is being cancelled

  while (!children_.empty()) {
    all_done_.emplace(parent_.get_loop());
    try {
      co_await **all_done_;
    } catch (const cancelled_error&) {
      // The caller is being cancelled while we wait: cancel the children, keep waiting.
      if (!aborting_) {
        propagate_cancel = std::current_exception();
        abort();
      }
    }
    all_done_.reset();
  }
  // The cancel this group sent its parent is taken back; if it was the only one, the
  // cancellation ends here and the errors that caused it go on instead.
  if (parent_cancel_requested_ && parent_.uncancel() == 0) propagate_cancel = nullptr;

  if (propagate_cancel && errors_.empty()) std::rethrow_exception(propagate_cancel);
  if (body_error && !body_cancelled) errors_.push_back(body_error);
  if (errors_.size() == 1) std::rethrow_exception(errors_.front());
  if (!errors_.empty())
    throw exception_group("unhandled errors in a task_group", std::move(errors_));
}

}  // namespace asyncio
