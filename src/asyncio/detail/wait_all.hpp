#pragma once

#include <asyncio/detail/outcome.hpp>

#include <boost/asio/async_result.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace asyncio::detail {

/// Waits until every future is done or, with fail_fast, until the first one fails: it then
/// completes with that error at once, and the others keep running (Python's gather). One
/// waiter per future, one suspension for all. Cancelling the wait cancels every future.
class wait_all {
public:
  wait_all(std::vector<future_state_base*> futures, bool fail_fast)
      : futures_(std::move(futures)), fail_fast_(fail_fast) {}

  template <boost::asio::completion_token_for<outcome_signature<void>> Token>
  auto operator()(Token&& token) && {
    return boost::asio::async_initiate<Token, outcome_signature<void>>(
        initiate{}, token, std::move(futures_), fail_fast_);
  }

private:
  template <class Handler>
  struct op;

  template <class Handler>
  struct child final : waiter {
    op<Handler>* parent = nullptr;
  };

  template <class Handler>
  struct op {
    op(Handler h, std::vector<future_state_base*> fs, bool ff)
        : handler(std::move(h)),
          futures(std::move(fs)),
          children(std::make_unique<child<Handler>[]>(futures.size())),
          fail_fast(ff) {}

    void start() {
      for (std::size_t i = 0; i < futures.size(); ++i) {
        auto* f = futures[i];
        if (!f->done()) {
          children[i].parent = this;
          children[i].on_done = &on_child;
          f->add_waiter(children[i]);
          ++remaining;
        } else if (fail_fast && failed(*f)) {
          return complete(f->take_error());
        }
      }
      if (remaining == 0) return complete(nullptr);
      auto slot = boost::asio::get_associated_cancellation_slot(handler);
      if (slot.is_connected()) slot.template emplace<cancel_all<Handler>>(this);
    }

    static bool failed(future_state_base& f) noexcept { return f.cancelled() || f.take_error(); }

    static void on_child(waiter& w, future_state_base* f) {
      auto* self = static_cast<child<Handler>&>(w).parent;
      if (self->fail_fast && f && failed(*f)) return self->complete(f->take_error());
      if (--self->remaining == 0) self->complete(nullptr);
    }

    void complete(std::exception_ptr error) {
      if (cancelling) {  // a plain future finishes inside cancel(): finish after the loop over them
        if (!done) done.emplace(std::move(error));
        return;
      }
      std::unique_ptr<op> owned(this);  // its waiters unlink themselves
      boost::asio::get_associated_cancellation_slot(handler).clear();
      auto h = std::move(handler);
      owned.reset();
      post_resume<void>(std::move(h), {std::move(error)});
    }

    Handler handler;
    std::vector<future_state_base*> futures;
    std::unique_ptr<child<Handler>[]> children;
    std::size_t remaining = 0;
    bool fail_fast;
    bool cancelling = false;
    std::optional<std::exception_ptr> done;
  };

  template <class Handler>
  struct cancel_all {
    op<Handler>* self;
    // complete() destroys this handler (it clears the slot): touch nothing after it.
    void operator()(boost::asio::cancellation_type_t) const {
      auto* o = self;
      o->cancelling = true;
      for (auto* f : o->futures) f->cancel({});
      o->cancelling = false;
      if (o->done) o->complete(*o->done);
    }
  };

  struct initiate {
    template <class Handler>
    void operator()(Handler handler, std::vector<future_state_base*> futures,
                    bool fail_fast) const {
      if (cancel_pending())
        return post_resume<void>(std::move(handler), {current_task_state()->take_cancel_request()});
      (new op<Handler>(std::move(handler), std::move(futures), fail_fast))->start();
    }
  };

  std::vector<future_state_base*> futures_;
  bool fail_fast_;
};

}  // namespace asyncio::detail
