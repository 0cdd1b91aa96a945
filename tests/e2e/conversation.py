"""Driving conversations: Chat (one user saying things and pressing buttons
on the web chat, Telegram or Zalo, getting back that message's replies), the
delivery counters a Telegram or Zalo message is settled by, and the readiness
checks of a guided flow."""
import json
import os

from basics import ROOT, ZL_MORE_BUTTONS, wait_until
from stubs import buttons_of, tg_callback, tg_message, zl_button, zl_buttons, zl_text


class Chat:
    """One user talking to dvcbot, on the web chat or through the Telegram or
    Zalo stub: say(text) and press(payload) return the replies of that message as
    [{"text": ..., "buttons": [(label, payload), ...]}].

    On Telegram the replies arrive asynchronously; a message is settled when
    dvcbot has handled it, its outbox is empty (nothing queued or in flight,
    acknowledgements of button presses included) and as many messages were
    counted delivered as the stub received since it was sent (so run one
    conversation at a time and keep replies short enough not to be split).
    `chat` is the Telegram chat when it is not the user's private chat (a
    staff group). On Zalo, the extra messages carrying buttons that did not
    fit under one message are folded back into the reply they belong to."""

    def __init__(self, test, channel="webchat", user=None, chat=None):
        self.test, self.channel = test, channel
        if channel == "telegram":
            self.user = user or test.new_user()
            self.chat = chat or self.user
            self.key = "tg:%d" % self.user
        elif channel == "zalo":
            self.user = self.chat = user or test.new_zalo_user()
            self.key = "zl:" + self.user
        else:
            self.user = user or "webuser%08d" % test.next_id()
            self.key = "wc:" + self.user

    def say(self, text):
        return self._send(text=text)

    def press(self, payload):
        return self._send(button=payload)

    def _send(self, text=None, button=None):
        if self.channel == "webchat":
            status, data = self.test.bot.webchat(self.user, text, button)
            assert status == 200, (status, data)
            return [{"text": r["text"], "buttons": [(b["label"], b["payload"]) for b in r["buttons"]]}
                    for r in data["replies"]]
        if self.channel == "zalo":
            return self._send_zalo(text, button)
        before = len(self.test.tg.sent_to(self.chat))
        mark = delivery_mark(self.test)
        uid = self.test.next_id()
        update = (tg_callback(uid, self.user, button, self.chat) if button is not None
                  else tg_message(uid, self.user, text, self.chat))
        status, _, _ = self.test.bot.telegram(update)
        assert status == 200
        settle(self.test, mark)
        return [{"text": c["json"]["text"], "buttons": buttons_of(c)}
                for c in self.test.tg.sent_to(self.chat)[before:]]

    def _send_zalo(self, text, button):
        zl = self.test.zl
        before = len(zl.sent_to(self.user))
        mark = delivery_mark(self.test, "zalo")
        event = zl_button(self.user, button) if button is not None else zl_text(self.user, text)
        status, _, _ = self.test.bot.zalo(event)
        assert status == 200
        settle(self.test, mark, channel="zalo")
        replies = []
        for call in zl.sent_to(self.user)[before:]:
            msg = call["json"]["message"]
            if replies and msg["text"] == ZL_MORE_BUTTONS:
                replies[-1]["buttons"] += zl_buttons(call)
            else:
                replies.append({"text": msg["text"], "buttons": zl_buttons(call)})
        return replies


def _stub_deliveries(test, channel):
    if channel == "zalo":
        return len([c for c in test.zl.of("cs") if (c.get("response") or {}).get("error") == 0])
    return len([c for c in test.tg.of("sendMessage") if c["status"] == 200])


def delivered(test, channel="telegram"):
    """(messages handled, outbox busy, replies counted sent, stub deliveries)."""
    m = test.bot.metrics()
    busy = m.get("dvcbot_outbox_queued", 0) + m.get("dvcbot_outbox_inflight", 0)
    return (m.get("dvcbot_handle_seconds_count", 0), busy,
            m.get('dvcbot_replies_sent_total{channel="%s"}' % channel, 0),
            _stub_deliveries(test, channel))


def delivery_mark(test, channel="telegram"):
    """Counters before sending a message (see settle), read once nothing is
    in flight (so what the stub received has been counted)."""
    return wait_until(lambda: (lambda d: d[1] == 0 and d)(delivered(test, channel)),
                      what="the outbox to be idle")


def settle(test, mark, handled=1, channel="telegram"):
    """Waits until dvcbot has handled `handled` more messages since mark and
    delivered to the channel's stub everything queued since."""
    h0, _, sent0, calls0 = mark

    def done():
        h, busy, sent, calls = delivered(test, channel)
        # On Zalo one reply may take several API calls (buttons in groups).
        same = sent - sent0 == calls - calls0 if channel == "telegram" else calls - calls0 >= sent - sent0
        return h >= h0 + handled and busy == 0 and same
    wait_until(done, what="replies to be delivered")


def payloads(replies):
    return [p for r in replies for _, p in r["buttons"]]


def texts(replies):
    return "\n".join(r["text"] for r in replies)


def start_flow_past_checks(chat, proc):
    """Starts proc's guided flow and answers its readiness checks "yes".
    Returns the last replies and the index of the first step after them."""
    with open(os.path.join(ROOT, "intents", proc + ".json"), encoding="utf-8") as f:
        steps = json.load(f)["flow"]["steps"]
    r = chat.press("flow:" + proc)
    i = 0
    while "check" in steps[i]:
        r = chat.press("f:yes:%d" % i)
        i += 1
    return r, i
