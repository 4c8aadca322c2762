/*
 * read_replica.pml: the Promela twin of splitbrain's models/read_replica.rs (an
 * asynchronous read replica: the missing transaction).
 *
 *   spin -DVARIANT=ASYNC -DCLIENTS=2 -DOPS=3 -DSERVERS=2 -a read_replica.pml
 *   gcc -O2 -DSAFETY [-DNOREDUCE] -o pan pan.c && ./pan -c0 -m200000
 *
 * Macros (defaults = splitbrain's default bounds):
 *   VARIANT  ASYNC | READ_PRIMARY_AFTER_WRITE | SESSION_TOKEN   (default ASYNC)
 *   CLIENTS 1..3   OPS 1..3   SERVERS 1..3 (replicas)
 * Only the reliable network without crashes is modelled (loss=0 crashes=0, the bench
 * bounds); clients have no timeouts here, so no timer exists.
 *
 * Mapping to the Rust model (stateright ActorModel wrapped in src/system.rs):
 *   - actor ids: the primary 0, replicas 1..SERVERS, clients after them.
 *   - one proctype per database (primary or replica) and per client, state in locals:
 *       Db: version, value. Its storage is a function of its state (saved on every
 *       change, version only grows: storage == None exactly while version == 0).
 *       Client: seq, session token, and for each request k < seq the reply (version,
 *       and the value for reads): the Rust log (one attempt per request).
 *   - the model declares `linearizable`, so splitbrain's state also holds stateright's
 *     linearizability tester (the real-time order of register operations). Every
 *     attempt is its own thread with one operation, so the tester's state is, for each
 *     invoked request, the set of requests already completed when it was invoked: the
 *     client keeps it as a bit mask `snap[k]`, read from the global `done` mask (the
 *     requests replied so far, a function of the client states, so it adds no state).
 *   - network: one sorted channel (`!!`) per receiver, a canonical multiset:
 *       db inbox:     WRITE a = client, b = seq           (src: client a)
 *                     READ  a = client, b = seq, v = token (src: client a)
 *                     REPL  a = version, b = value        (src: primary)
 *                     FWD   a = client, b = seq           (src: the forwarding replica)
 *       client inbox: {src db, seq, version, value}
 *     A db takes the n-th message of its inbox (n nondeterministic; earlier ones are
 *     parked in a local channel and put back sorted). A replicated version the replica
 *     already has is a stateright no-op: it is not taken and stays in flight; the twin
 *     puts it back, a step back to the same state, which adds no state.
 *   - one stateright step = one atomic sequence; temporaries are 0 between steps.
 *   - init runs the actors and sends each client's first request (its write) atomically:
 *     SPIN's `states, stored` (-DNOREDUCE) = splitbrain's unique_states + 1.
 *
 * Properties: read_your_writes is a local assertion of each client (a read after the
 * client's own write returns that version or newer), monotonic_reads too (a read never
 * returns an older version than an earlier read of the same client). monotonic_writes
 * and writes_follow_reads hold trivially with one write per client; linearizable needs
 * the whole history and a search over orders, replicas_converge is an `eventually` over
 * all databases: both are left out. The `done` global that the tester state needs makes
 * client steps dependent for SPIN's POR, and the inboxes cannot be `xr` (pan rejects `!!`
 * and `??` on exclusive channels): state counts come first, reduction is limited.
 */

#define ASYNC                    1
#define READ_PRIMARY_AFTER_WRITE 2
#define SESSION_TOKEN            3

#ifndef VARIANT
#define VARIANT ASYNC
#endif
#ifndef CLIENTS
#define CLIENTS 2
#endif
#ifndef OPS
#define OPS 3
#endif
#ifndef SERVERS
#define SERVERS 2
#endif

#define WRITE 1
#define READ  2
#define REPL  3
#define FWD   4

#define NDB (SERVERS + 1)
#define QD (CLIENTS * OPS + CLIENTS + 2)
#define QC 2

chan dq[NDB] = [QD] of { byte, byte, byte, short };
chan cq[CLIENTS] = [QC] of { byte, byte, byte, short };

short done;   /* bit c*OPS+k: request k of client c has been replied */

/* request k of client c: a write to the primary first, then reads */
#if VARIANT == READ_PRIMARY_AFTER_WRITE
#define READ_DST(c, k) 0
#else
#define READ_DST(c, k) (1 + ((c) + (k) - 1) % SERVERS)
#endif
#if VARIANT == SESSION_TOKEN
#define TOKEN token
#else
#define TOKEN 0
#endif

proctype Db(byte me)
{
  byte version, value;
  byte kind, fa, fb; short fv;
  byte k2, a2, b2; short v2;
  byte n;
  chan park = [QD] of { byte, byte, byte, short };
  chan inbox = dq[me];
end:
  do
  :: atomic {
       nempty(inbox) ->
       select(n : 0 .. len(inbox) - 1);
       do
       :: n > 0 -> inbox ? k2, a2, b2, v2; park ! k2, a2, b2, v2; n--
       :: else -> break
       od;
       inbox ? kind, fa, fb, fv;
       do
       :: nempty(park) -> park ? k2, a2, b2, v2; inbox !! k2, a2, b2, v2
       :: empty(park) -> break
       od;
       k2 = 0; a2 = 0; b2 = 0; v2 = 0;
       if
       :: kind == WRITE && me == 0 ->
          version++;
          value = fa + 1;
          cq[fa] !! 0, fb, version, 0;
          n = 1;
          do
          :: n <= SERVERS -> dq[n] !! REPL, version, value, 0; n++
          :: else -> break
          od;
          n = 0
       :: kind == WRITE && me != 0 ->
          skip   /* a write sent to a replica: never in this workload */
       :: kind == READ ->
          if
          :: me != 0 && VARIANT == SESSION_TOKEN && fv > version ->
             dq[0] !! FWD, fa, fb, 0
          :: else ->
             cq[fa] !! me, fb, version, value
          fi
       :: kind == FWD ->
          cq[fa] !! me, fb, version, value
       :: kind == REPL ->
          if
          :: fa > version -> version = fa; value = fb
          :: else ->
             /* a no-op in stateright: the message stays in flight */
             inbox !! kind, fa, fb, fv
          fi
       fi;
       kind = 0; fa = 0; fb = 0; fv = 0
     }
  od
}

proctype Client(byte c)
{
  byte seq;            /* index of the outstanding request (OPS: done) */
  byte token;          /* session token (SESSION_TOKEN only) */
  byte rver[OPS];      /* version of the reply to request k < seq */
  byte rval[OPS];      /* value of that reply (reads) */
  short snap[OPS];     /* linearizability tester: requests completed at invocation */
  byte src, ver, val, k;
  chan inbox = cq[c];
end:
  do
  :: atomic {
       inbox ?? src, eval(seq), ver, val ->
       rver[seq] = ver;
       rval[seq] = val;
#if VARIANT == SESSION_TOKEN
       if :: ver > token -> token = ver :: else -> skip fi;
#endif
       if
       :: seq > 0 ->
          /* read_your_writes: this client's write (request 0) got version rver[0] */
          assert(ver >= rver[0]);
          /* monotonic_reads */
          k = 1;
          do
          :: k < seq -> assert(ver >= rver[k]); k++
          :: else -> break
          od;
          k = 0
       :: else -> skip
       fi;
       done = done | (1 << (c * OPS + seq));
       seq++;
       if
       :: seq < OPS ->
          snap[seq] = done & ~(1 << (c * OPS + seq));
          dq[READ_DST(c, seq)] !! READ, c, seq, TOKEN
       :: else -> skip
       fi;
       src = 0; ver = 0; val = 0
     }
  od
}

init
{
  byte i;
  atomic {
    i = 0;
    do
    :: i <= SERVERS -> run Db(i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < CLIENTS -> run Client(i); dq[0] !! WRITE, i, 0, 0; i++
    :: else -> break
    od;
    i = 0
  }
}
