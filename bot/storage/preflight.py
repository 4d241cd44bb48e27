"""What answering one message needs from Redis before the engine runs, asked in one round trip.

A text needs its session, whether its sender wrote before, whether they opted out and how many texts they
sent in this rate window. Asked one by one that is four waits on Redis (and a database query for the
opt-out) per text; batched in one pipeline it is one wait, which also carries the claim on the webhook's
delivery when there is one (`delivery_claim`). When Redis' copy of the opt-outs is not known to
be complete, the text asks the database and the copy is rebuilt in the background; when Redis holds consent
changes the database has not taken yet (it was away), they are replayed into it in the background. Each
store keeps its own key names: it queues its commands here and reads its own replies.
"""

from __future__ import annotations

from bot.helpline import Opening
from bot.storage.delivery_claim import carry_claim
from bot.storage.guards import RedisRateLimiter
from bot.storage.opt_outs import OptOutStore
from bot.storage.sessions import RedisSessionStore


class RedisPreflight:
    """`Preflight` on Redis: one pipeline over the session, rate and opt-out stores."""

    def __init__(
        self,
        sessions: RedisSessionStore,
        limiter: RedisRateLimiter | None = None,
        opt_outs: OptOutStore | None = None,
    ):
        self.sessions = sessions
        self.limiter = limiter if limiter is not None and limiter.limit > 0 else None  # 0: texts are not counted
        self.opt_outs = opt_outs if opt_outs is not None and opt_outs.mirror is not None else None
        self._redis_failed = True  # as at a start: the first answer from Redis also catches the copy up

    def open(self, key: str, person: str | None) -> Opening:
        """Load `key`'s session; for a text (`person` given) also count it and read the opt-out copy.

        Raises what Redis raises: the caller degrades (no memory, no limit, opt-outs from the database).
        """
        limiter = self.limiter if person is not None else None
        opt_outs = self.opt_outs if person is not None else None
        pipe = self.sessions.client.pipeline(transaction=False)
        claim = carry_claim(pipe)
        self.sessions.load_into(pipe, key)
        if limiter is not None:
            limiter.count_into(pipe, key)
        if opt_outs is not None and person is not None:
            pipe.mget(opt_outs.mirror_key(person), opt_outs.complete_key)
            pipe.scard(opt_outs.pending_key)
        try:
            replies = pipe.execute()
        except Exception:
            self._redis_failed = True
            raise
        if claim is not None and not claim.settle(replies.pop(0)):
            return Opening(None, False, duplicate=True)
        session, returning = self.sessions.loaded(replies[0])
        language = self.sessions.language_of(replies[0])
        opted_out = None
        if opt_outs is not None:
            opted_out = opt_outs.from_mirror(*replies[-2])
            if opted_out is None:
                opt_outs.sync_in_background()  # a rebuild, which also copies what the database took alone
            elif self._redis_failed:
                # Redis answers again: its copy may lack changes the database took meanwhile.
                opt_outs.copy_unmirrored_in_background()
            self._redis_failed = False
            if replies[-1]:
                opt_outs.replay_in_background()  # changes taken while the database was away: it may be back
        return Opening(
            session,
            returning,
            opted_out=opted_out,
            over_limit=limiter.over(replies[1]) if limiter is not None else False,
            language=language,
        )
