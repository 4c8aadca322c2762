/*
 * central_db.pml: the Promela twin of splitbrain's models/central_db.rs (app servers in
 * front of one database: Jose pays Carlos, the answer is slow, Jose tries again).
 *
 *   spin -DVARIANT=RETRY -DCLIENTS=2 -DLOSS=1 -DCRASHES=1 -a central_db.pml
 *   gcc -O2 -DSAFETY [-DNOREDUCE] -o pan pan.c && ./pan -c0 -m200000
 *
 * Macros (defaults = splitbrain's default bounds):
 *   VARIANT  RETRY | IDEMPOTENCY_KEY | NO_RETRY    (default RETRY)
 *   CLIENTS 1..3  SERVERS 1..3 (app servers)  OPS 1..3 (CLIENTS*OPS <= 4)
 *   BALANCE 0..1000  LOSS 0..3  CRASHES 0..1
 *
 * Mapping to the Rust model (stateright ActorModel wrapped in src/system.rs):
 *   - actor ids: app servers 0..SERVERS-1, the db SERVERS, clients after it.
 *   - one proctype per actor, actor state in local variables:
 *       App: nothing (NodeState::App); only its crashed flag `down`.
 *       Db: balances (account 0 is Carlos, client c pays from account c+1), the ghost
 *       list `applied` of (client, seq) in application order, and in IDEMPOTENCY_KEY the
 *       list `outcomes` of (key, reply) in insertion order; keys are client*8+seq+1.
 *       Its durable storage is not kept apart: every change is saved at once and
 *       `applied` only grows, so storage == None exactly while the state is the initial
 *       one (a declined transfer would save an unchanged state: with BALANCE >= 10*OPS
 *       it never happens; the test bounds keep to that).
 *       Client: seq, attempt and, for each finished request k, how many attempts it took
 *       and how the last ended (0 timed out, 1 approved, 2 declined) with the balance
 *       the reply carried: exactly the Rust log (all earlier attempts timed out). Its
 *       Request timer is set exactly while seq < OPS, so it is not stored either.
 *   - the unordered non-duplicating network is one channel per receiver kept sorted
 *     (`!!`): the same multiset of envelopes is always the same channel contents. All
 *     messages are {kind, a, b, v}:
 *       app inbox:    REQ   a = client, b = seq*2+attempt   (src: client a)
 *                     SAVED a = client, b = seq*2+attempt, v = replayed*4096 + code*1024 + balance
 *       db inbox:     SAVE  a = client, b = seq*2+attempt   (src: app a % SERVERS)
 *       client inbox: REPLY a = seq*2+attempt, b = code, v = balance   (src: app c % SERVERS)
 *   - one stateright step = one atomic sequence (pan stores no state inside it):
 *       Deliver: the receiver takes the n-th message of its inbox (n chosen
 *       nondeterministically; the messages before it are parked in a local channel and
 *       put back sorted). Apps and the db never make a no-op delivery; a client only
 *       accepts the reply to its outstanding attempt (`??` with eval), other replies stay
 *       in flight as in stateright. No delivery to a crashed actor.
 *       Drop: while lost < LOSS, any message of any inbox (also a crashed actor's) may be
 *       lost; the owner of the inbox removes it, lost++.
 *       Timeout: a client with a request outstanding times out: retry (RETRY,
 *       IDEMPOTENCY_KEY: once) or move on.
 *       Crash/Recover: an app or the db goes down while fewer than CRASHES are down;
 *       recovering restarts it from its storage, which equals its state (see above).
 *   - temporaries are 0 between steps; `ndown` (servers down) is a function of the
 *     `down` flags, so it adds no state.
 *   - init runs the actors and sends each client's first request atomically: SPIN's
 *     `states, stored` (-DNOREDUCE) = splitbrain's unique_states + 1 (the state before init).
 *
 * Properties asserted locally in the db: no_negative_balance, and the "at most once"
 * half of exactly_once_transfer (no (client, seq) applied twice); in these variants a
 * client can only hear "approved" for a transfer the db applied, so that half decides
 * the verdict. money_conserved (all balances: local too, but not requested) is asserted as
 * well; ambiguous_failure_reachable (a `sometimes` over clients and db) is left out.
 *
 * Partial-order reduction: actors are separate proctypes with local state, but the
 * inboxes are not declared `xr`: pan rejects sorted send `!!` and random receive `??` on
 * exclusive channels, and the canonical multiset needs both; `lost` and `ndown` are
 * globals. SPIN's POR therefore has little to reduce here (state counts first).
 */

#define RETRY           1
#define IDEMPOTENCY_KEY 2
#define NO_RETRY        3

#ifndef VARIANT
#define VARIANT RETRY
#endif
#ifndef CLIENTS
#define CLIENTS 1
#endif
#ifndef SERVERS
#define SERVERS 2
#endif
#ifndef OPS
#define OPS 1
#endif
#ifndef BALANCE
#define BALANCE 100
#endif
#ifndef LOSS
#define LOSS 0
#endif
#ifndef CRASHES
#define CRASHES 0
#endif

#if VARIANT == NO_RETRY
#define RETRIES 0
#else
#define RETRIES 1
#endif

#define AMOUNT 10
#define REQ   1
#define SAVED 2
#define SAVE  3
#define REPLY 4

#define NT (CLIENTS * OPS)
#define QA (4 * NT + 2)
#define QD (2 * NT + 2)
#define QC (2 * OPS + 2)

chan aq[SERVERS] = [QA] of { byte, byte, byte, short };
chan dq = [QD] of { byte, byte, byte, short };
chan cq[CLIENTS] = [QC] of { byte, byte, byte, short };

byte lost;    /* messages lost so far (SysState::lost) */
byte ndown;   /* servers down now */

#define SEND_REQUEST(c, k, a) aq[(c) % SERVERS] !! REQ, c, (k) * 2 + (a), 0

/* Takes the n-th message (n nondeterministic) of sorted channel q into kind, fa, fb, fv. */
#define TAKE(q) \
  select(n : 0 .. len(q) - 1); \
  do \
  :: n > 0 -> q ? k2, a2, b2, v2; park ! k2, a2, b2, v2; n-- \
  :: else -> break \
  od; \
  q ? kind, fa, fb, fv; \
  do \
  :: nempty(park) -> park ? k2, a2, b2, v2; q !! k2, a2, b2, v2 \
  :: empty(park) -> break \
  od; \
  k2 = 0; a2 = 0; b2 = 0; v2 = 0

#define TEMPS \
  byte kind, fa, fb; short fv; \
  byte k2, a2, b2; short v2; \
  byte n

#define CLEAR kind = 0; fa = 0; fb = 0; fv = 0

/* a server's loss and crash steps */
#define FAULTS(q, Q) \
  :: atomic { lost < LOSS && nempty(q) -> TAKE(q); lost++; CLEAR } \
  :: atomic { !down && ndown < CRASHES -> down = 1; ndown++ } \
  :: atomic { down -> down = 0; ndown-- }

proctype App(byte me)
{
  bit down;
  TEMPS;
  chan park = [QA] of { byte, byte, byte, short };
  chan inbox = aq[me];
end:
  do
  :: atomic {
       !down && nempty(inbox) ->
       TAKE(inbox);
       if
       :: kind == REQ -> dq !! SAVE, fa, fb, 0
       :: else -> cq[fa] !! REPLY, fb, (fv % 4096) / 1024, fv % 1024
       fi;
       CLEAR
     }
  FAULTS(inbox, QA)
  od
}

proctype Db()
{
  bit down;
  short carlos;                 /* account 0 */
  short bal[CLIENTS] = BALANCE; /* account c + 1: client c's */
  byte applied[2 * NT];   /* keys in application order */
  byte napplied;
#if VARIANT == IDEMPOTENCY_KEY
  byte okey[NT];          /* outcomes: keys in insertion order */
  short orep[NT];         /* and the reply given: code*1024 + balance */
  byte nout;
#endif
  byte key, i, j; short rep;
  TEMPS;
  chan park = [QD] of { byte, byte, byte, short };
  chan inbox = dq;

end:
  do
  :: atomic {
       !down && nempty(inbox) ->
       TAKE(inbox);
       key = fa * 8 + fb / 2 + 1;
       rep = 0;
#if VARIANT == IDEMPOTENCY_KEY
       i = 0;
       do
       :: i < nout && okey[i] != key -> i++
       :: else -> break
       od;
       if
       :: i < nout ->
          /* a repeat: answer with the recorded outcome, change nothing */
          aq[fa % SERVERS] !! SAVED, fa, fb, 4096 + orep[i]
       :: else ->
#endif
          if
          :: bal[fa] < AMOUNT -> rep = 2 * 1024 + bal[fa]
          :: else ->
             bal[fa] = bal[fa] - AMOUNT;
             carlos = carlos + AMOUNT;
             applied[napplied] = key;
             napplied++;
             rep = 1 * 1024 + bal[fa]
          fi;
#if VARIANT == IDEMPOTENCY_KEY
          okey[nout] = key;
          orep[nout] = rep;
          nout++;
#endif
          aq[fa % SERVERS] !! SAVED, fa, fb, rep
#if VARIANT == IDEMPOTENCY_KEY
       fi;
#endif
       ;
       /* no_negative_balance, money_conserved */
       i = 0; rep = carlos;
       assert(carlos >= 0);
       do
       :: i < CLIENTS -> assert(bal[i] >= 0); rep = rep + bal[i]; i++
       :: else -> break
       od;
       assert(rep == BALANCE * CLIENTS);
       /* exactly_once_transfer, at most once: no key applied twice */
       i = 0;
       do
       :: i < napplied ->
          j = i + 1;
          do
          :: j < napplied -> assert(applied[i] != applied[j]); j++
          :: else -> break
          od;
          i++
       :: else -> break
       od;
       i = 0; j = 0; key = 0; rep = 0;
       CLEAR
     }
  FAULTS(inbox, QD)
  od
}

proctype Client(byte c)
{
  byte seq, att;
  byte natt[OPS];   /* attempts request k took (k < seq) */
  byte outc[OPS];   /* how its last attempt ended: 0 timed out, 1 approved, 2 declined */
  short rbal[OPS];  /* the balance the reply carried */
  TEMPS;
  chan park = [QC] of { byte, byte, byte, short };
  chan inbox = cq[c];
end:
  do
  :: atomic {
       inbox ?? REPLY, eval(seq * 2 + att), fb, fv ->
       natt[seq] = att + 1;
       outc[seq] = fb;
       rbal[seq] = fv;
       seq++;
       att = 0;
       if
       :: seq < OPS -> SEND_REQUEST(c, seq, 0)
       :: else -> skip
       fi;
       fb = 0; fv = 0
     }
  :: atomic {
       seq < OPS ->
       if
       :: att < RETRIES -> att++
       :: else ->
          natt[seq] = att + 1;
          outc[seq] = 0;
          rbal[seq] = 0;
          seq++;
          att = 0
       fi;
       if
       :: seq < OPS -> SEND_REQUEST(c, seq, att)
       :: else -> skip
       fi
     }
  :: atomic { lost < LOSS && nempty(inbox) -> TAKE(inbox); lost++; CLEAR }
  od
}

init
{
  byte i;
  atomic {
    i = 0;
    do
    :: i < SERVERS -> run App(i); i++
    :: else -> break
    od;
    run Db();
    i = 0;
    do
    :: i < CLIENTS -> run Client(i); SEND_REQUEST(i, 0, 0); i++
    :: else -> break
    od;
    i = 0
  }
}
