/*
 * master_master.pml: the Promela twin of splitbrain's models/master_master.rs
 * (the burrito and the taco), for running SPIN side by side with splitbrain.
 *
 *   spin -DVARIANT=ASYNC_OPS -DCLIENTS=1 -DSERVERS=2 -DOPS=2 -DBALANCE=10 -a master_master.pml
 *   gcc -O2 -DSAFETY [-DNOREDUCE] -o pan pan.c && ./pan -c0 -m1000000
 *
 * Macros (defaults = splitbrain's default bounds):
 *   VARIANT  ASYNC_OPS | LWW | HOME_MASTER       (default ASYNC_OPS)
 *   CLIENTS  1..4   SERVERS 2..3   OPS 1..3   BALANCE 0..1000
 * Only the reliable network without crashes is modelled (loss=0 crashes=0, the bench
 * bounds): the client workload has no timeouts, so no timer exists either.
 *
 * Mapping to the Rust model (stateright ActorModel wrapped in src/system.rs):
 *   - actor ids: masters 0..SERVERS-1, clients SERVERS..SERVERS+CLIENTS-1, as in build_with.
 *   - one proctype per actor; an actor's state is the proctype's local variables:
 *       Master: balance, stamp (clk, wr), approved. Its durable storage is not kept
 *       separately: every change is saved at once and the stamp or `approved` grows with
 *       every change (or the balance falls, with ASYNC_OPS), so storage == None exactly
 *       when the state is still the initial one, and the storage otherwise equals it.
 *       Client: seq, and for each finished request the reply (code 1 approved / 2
 *       declined, and the balance it carries). The Rust log (one Event per attempt:
 *       attempt 0 only, no retries) is exactly (seq, replies[0..seq)).
 *   - the unordered non-duplicating network (a multiset of envelopes) is one channel per
 *     receiver, written with sorted send `!!` so that the same multiset always has the
 *     same channel contents. Master inbox messages: {kind, src, key, val}
 *       REQ    src = client actor id, key = seq          (op and dst follow from (client,seq))
 *       FWD    src = forwarding master, key = seq, val = client index
 *       APPLY  src = master, key = amount
 *       SETBAL src = master (= the stamp's writer), key = Lamport clock, val = balance
 *     Client inbox messages (replies): {src master, seq, code, balance}.
 *   - each stateright step (delivery of one envelope, with everything the actor sends)
 *     is one atomic sequence; states inside atomic sequences are not stored by pan.
 *     A master may receive any message of its inbox: the atomic sequence selects the
 *     n-th message (n chosen nondeterministically), parks the ones before it in a local
 *     channel and puts them back with `!!`. Every master delivery changes the state or
 *     sends something, but that of a balance stamped older than the master's (LWW): a
 *     stateright no-op, not taken, that stays in flight; here it is put back, a step to
 *     the same state, which stores nothing. A client only accepts the reply to
 *     its outstanding request (others would be no-ops that stateright does not take and
 *     that stay in flight): `??` with eval(seq).
 *   - temporaries are reset to 0 at the end of every step, so the state vector is the
 *     Rust state and nothing else.
 *   - init runs the actors and sends each client's first request in one atomic step
 *     (stateright's init state runs every on_start). SPIN's state before that step is the
 *     one extra state: SPIN's `states, stored` (-DNOREDUCE) = splitbrain's unique_states + 1.
 *
 * Partial-order reduction: each actor is its own proctype with local state and its own
 * inbox, and properties are local assertions, so SPIN's POR has independent local steps
 * to work with. The inboxes are NOT declared `xr`: pan rejects sorted send `!!` and
 * random receive `??` on exclusive channels ("violates po reduction"), and the canonical
 * multiset (priority: state counts equal to splitbrain's) needs both. Channel operations
 * on non-exclusive channels are dependent for SPIN, which limits the reduction.
 *
 * Properties: no_negative_balance is a local assertion in each master (SPIN finds it
 * violated in ASYNC_OPS, holds in LWW and HOME_MASTER, like splitbrain).
 * money_conserved and approvals_within_funds compare state across masters or clients,
 * and replicas_converge is an `eventually` over all masters: checking them would need
 * global variables, which SPIN's partial-order reduction treats as unsafe, so they are
 * left out of the twin.
 */

#define ASYNC_OPS   1
#define LWW         2
#define HOME_MASTER 3

#ifndef VARIANT
#define VARIANT ASYNC_OPS
#endif
#ifndef CLIENTS
#define CLIENTS 1
#endif
#ifndef SERVERS
#define SERVERS 2
#endif
#ifndef OPS
#define OPS 2
#endif
#ifndef BALANCE
#define BALANCE 10
#endif

/* message kinds, in sort order */
#define REQ    1
#define FWD    2
#define APPLY  3
#define SETBAL 4

/* inbox sizes: a master holds at most one request or forward per client and one
   replication message per approval; a client at most the reply to its one request */
#define QM (CLIENTS * OPS + CLIENTS)
#define QC 2

/* the workload of build_with: request k of client c withdraws 10 (burrito) or 5 (taco)
   from master (c + k) % SERVERS */
#define AMOUNT(c, k) (((c) + (k)) % 2 == 0 -> 10 : 5)
#define TARGET(c, k) (((c) + (k)) % SERVERS)

chan mq[SERVERS] = [QM] of { byte, byte, byte, short };
chan cq[CLIENTS] = [QC] of { byte, byte, byte, short };

/* a client's send_current: the request (client c, seq k, attempt 0) */
#define SEND_REQUEST(c, k) mq[TARGET(c, k)] !! REQ, SERVERS + (c), k, 0

proctype Master(byte me)
{
  short bal = BALANCE;   /* the balance as this master sees it */
  byte clk;              /* stamp.0: Lamport clock (LWW) */
  byte wr;               /* stamp.1: writer master number (LWW) */
  short approved;        /* dollars this master approved */
  /* temporaries, 0 between steps */
  byte kind, src, key; short val;
  byte k2, s2, y2; short v2;
  byte n, c, amt;
  chan park = [QM] of { byte, byte, byte, short };
  chan inbox = mq[me];

end:
  do
  :: atomic {
       nempty(inbox) ->
       /* take the n-th message of the multiset */
       select(n : 0 .. len(inbox) - 1);
       do
       :: n > 0 -> inbox ? k2, s2, y2, v2; park ! k2, s2, y2, v2; n--
       :: else -> break
       od;
       inbox ? kind, src, key, val;
       do
       :: nempty(park) -> park ? k2, s2, y2, v2; inbox !! k2, s2, y2, v2
       :: empty(park) -> break
       od;
       k2 = 0; s2 = 0; y2 = 0; v2 = 0;

       if
#if VARIANT == HOME_MASTER
       :: kind == REQ && me != 0 ->
          /* not the home master: forward to master1 */
          mq[0] !! FWD, me, key, src - SERVERS
#endif
       :: else ->
          if
          :: kind == REQ || kind == FWD ->
             if
             :: kind == REQ -> c = src - SERVERS
             :: else -> c = val
             fi;
             amt = AMOUNT(c, key);
             if
             :: bal < amt ->
                cq[c] !! me, key, 2, bal
             :: else ->
                bal = bal - amt;
                approved = approved + amt;
                cq[c] !! me, key, 1, bal;
#if VARIANT == LWW
                clk++;
                wr = me;
#endif
                n = 0;
                do
                :: n < SERVERS ->
                   if
                   :: n != me ->
#if VARIANT == LWW
                      mq[n] !! SETBAL, me, clk, bal
#else
                      mq[n] !! APPLY, me, amt, 0
#endif
                   :: else -> skip
                   fi;
                   n++
                :: else -> break
                od;
                n = 0
             fi
          :: kind == APPLY ->
             bal = bal - key
          :: kind == SETBAL ->
             if
             :: key > clk || (key == clk && src > wr) ->
                bal = val; clk = key; wr = src
             :: else ->
                /* older than what this master holds: back in flight, nothing changed */
                inbox !! kind, src, key, val
             fi
          fi
       fi;
       assert(bal >= 0);   /* no_negative_balance */
       kind = 0; src = 0; key = 0; val = 0; c = 0; amt = 0
     }
  od
}

proctype Client(byte c)
{
  byte seq;              /* index of the outstanding request (OPS: done) */
  byte code[OPS];        /* reply to request k < seq: 1 approved, 2 declined */
  short rbal[OPS];       /* the balance that reply carried */
  byte src, r; short b;  /* temporaries */
  chan inbox = cq[c];

end:
  do
  :: atomic {
       inbox ?? src, eval(seq), r, b ->
       code[seq] = r;
       rbal[seq] = b;
       seq++;
       if
       :: seq < OPS -> SEND_REQUEST(c, seq)
       :: else -> skip
       fi;
       src = 0; r = 0; b = 0
     }
  od
}

init
{
  byte i;
  atomic {
    i = 0;
    do
    :: i < SERVERS -> run Master(i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < CLIENTS -> run Client(i); SEND_REQUEST(i, 0); i++
    :: else -> break
    od;
    i = 0
  }
}
