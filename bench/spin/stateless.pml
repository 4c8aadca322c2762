/*
 * stateless.pml: the Promela twin of splitbrain's models/stateless.rs (a load balancer
 * in front of static file servers while an operator deploys a new index.html).
 *
 *   spin -DVARIANT=PURGE -DCLIENTS=2 -DLOSS=1 -DCRASHES=1 -a stateless.pml
 *   gcc -O2 -DSAFETY [-DNOREDUCE] -o pan pan.c && ./pan -c0 -m1000000
 *
 * Macros (defaults = splitbrain's default bounds):
 *   VARIANT  LB | STALE_CACHE | PURGE | VERSIONED_PURGE   (default LB; the catalog
 *            variants lb, stale-cache, purge, versioned-purge; not the mutants)
 *   CLIENTS 1..4  OPS 1..4 (CLIENTS*OPS <= 8)  SERVERS 1..4
 *   LOSS 0..4  CRASHES 0..SERVERS            (the ranges splitbrain itself accepts)
 * With -DNOREDUCE, `states, stored` = splitbrain's `--reduce none` unique states + 1 for
 * every configuration tried: all 4 variants at default (1/1/2/0/0) and bench
 * (clients 2, loss 1, crashes 1) bounds, and at (clients/ops/servers/loss/crashes)
 * 1/2/2/1/0, 1/1/1/0/0, 1/1/3/0/0, 1/1/2/1/1, 1/1/2/2/2, 1/1/2/4/2, 3/1/2/0/0,
 * 1/1/4/0/1, 1/3/2/0/0, 2/2/2/0/0, 1/4/1/0/0, 1/2/3/1/3, 2/1/1/2/1, 4/1/1/0/0.
 *
 * Mapping to the Rust model (stateright ActorModel wrapped in src/system.rs):
 *   - actor ids: the lb 0, servers 1..SERVERS, the operator SERVERS+1, clients after it.
 *     A "requester" r is a client index 0..CLIENTS-1, or CLIENTS for the operator's site
 *     check (its client index in request ids). Request k of client c asks for file
 *     page(c+k) = (c+k) % 2 (0 index.html, 1 logo.png); the operator's for index.html.
 *   - one proctype per actor, actor state in local variables:
 *       Lb: cache[2] (cached version of each file, 0: none), hit[3] (the `hits` list in
 *       insertion order, (file, version) as file*2+version, 0: unused; at most the three
 *       pairs (0,1) (0,2) (1,1) exist), floor0 (index.html's floor; logo.png's stays 0),
 *       and `routes`: stateright's pending random choices of the lb, one per GET that
 *       missed the cache, kept as a sorted local channel of (requester, seq) (the key
 *       and the offered routes are functions of it). Its storage is Some(floor) exactly
 *       once a versioned purge set floor0 = 2 (saved on that step, never otherwise): a
 *       function of floor0. A crash clears the pending choices (stateright does); the
 *       state is kept while down; the restart empties cache and hits (in memory) and
 *       keeps the floor (from disk).
 *       Server: f0, index.html's version (logo.png stays v1). Storage is saved on the
 *       one deploy, which sets f0 = 2: storage == None exactly while f0 == 1, and a
 *       restart from storage gives the state back unchanged.
 *       Operator: conf (a bit per server that confirmed), purged, and olog, its client
 *       state: 0 not started (empty log), 1 waiting (log [Pending], seq 0), 2 timed out,
 *       3 got v1, 4 got v2 (seq 1). Its Request timer is set exactly while olog == 1.
 *       Client: seq and, for each request k < seq, how it ended in res[k] (1 timed out,
 *       2 got v1, 3 got v2); the Rust log is that plus one Pending entry while
 *       seq < OPS (ids, ops, attempt 0 and token 0 are fixed: no retries, no session
 *       token). Its Request timer is set exactly while seq < OPS.
 *     Timers, storage and the `crashed` flags (`down`) are therefore all stored or
 *     functions of what is; `ndown` (actors down) is a function of the `down` flags.
 *   - the unordered non-duplicating network is kept as sorted channels (`!!`): the same
 *     multiset of envelopes is always the same channel contents. The lb, the servers and
 *     the operator each have two inboxes, one for the lossy kinds (REQ, CONTENT,
 *     FORWARD, REPLY: the model's `lossy`) and one for the reliable ones (deploys, purges
 *     and their acks); the inbox is a function of the kind, so each pair is still a
 *     canonical multiset. A client only ever gets replies: one (lossy) inbox. All
 *     messages are {kind, a, b, c, d}; the sender is a function of the fields:
 *       lb:       lq   REQ      a = requester, b = seq, c = file      (src: requester)
 *                      CONTENT  a = server, b = requester, c = seq, d = file*4+version
 *                                                                     (src: server a)
 *                 lrq  PURGE_M  (src: operator; Purge{index.html, v2})
 *       server:   sq   FORWARD  a = requester, b = seq, c = file      (src: lb)
 *                 srq  DEPLOY   (src: operator; Deploy{index.html, v2})
 *       operator: oq   REPLY    a = seq, b = file, c = version        (src: lb)
 *                 orq  DEPLOYED a = server                            (src: server a)
 *                      PURGED   (src: lb)
 *       client:   cq   REPLY    a = seq, b = file, c = version        (src: lb)
 *   - one stateright step = one atomic sequence (pan stores no state inside it):
 *       Deliver: the receiver takes the n-th message of either of its inboxes (n chosen
 *       nondeterministically; the messages before it are parked in a local channel and
 *       put back sorted). Every delivery to the lb and the servers changes something.
 *       A client only accepts the reply to its outstanding request (`??` with eval);
 *       the operator puts a reply to its abandoned check back (stateright offers that
 *       delivery, a no-op: a step back to the same state, which adds no state). No
 *       delivery to a crashed actor.
 *       SelectRandom: the lb takes any pending (requester, seq) from `routes` and
 *       forwards it to any server.
 *       Drop: while lost < LOSS, any message of any lossy inbox (also a crashed
 *       actor's) may be lost; the owner of the inbox removes it, lost++. Deploys, purges
 *       and their acks wait in the reliable inboxes, which have no loss step: pan
 *       only ever tries to lose a lossy message, as src/system.rs offers a Drop only
 *       for one.
 *       Timeout: a client (or the operator's check) waiting for a reply gives up, logs
 *       a timeout and moves on to its next GET (no retries).
 *       Crash/Recover: the lb or a server goes down while fewer than CRASHES are down
 *       (the operator and clients never crash); recovering restarts it as above.
 *   - temporaries are 0 between steps.
 *   - init runs the actors, sends the operator's deploys and each client's first GET
 *     atomically: SPIN's `states, stored` (-DNOREDUCE) = splitbrain's unique_states + 1
 *     (the state before init).
 *
 * Properties, local assertions where the reply is taken:
 *   correct_content: the operator, whose check starts only after every server
 *   confirmed v2, must get index.html v2 (clients asked at unknown moments: floor v1);
 *   no_wrong_reply_under_loss (and the first half of correct_content): every reply
 *   carries the file asked for in a version that exists (1..2 for index.html, 1 for
 *   logo.png). pan's errors are > 0 exactly for stale-cache and purge, as splitbrain's
 *   correct_content is VIOLATED there. every_request_answered (an `eventually`) is left
 *   out.
 *
 * Partial-order reduction: actors are separate proctypes with local state, but the
 * inboxes are not declared `xr`: pan rejects sorted send `!!` and random receive `??` on
 * exclusive channels, and the canonical multiset needs both; `lost` and `ndown` are
 * globals. SPIN's POR reduces nothing here (it stores as many states as -DNOREDUCE).
 */

#define LB              1
#define STALE_CACHE     2
#define PURGE           3
#define VERSIONED_PURGE 4

#ifndef VARIANT
#define VARIANT LB
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
#ifndef LOSS
#define LOSS 0
#endif
#ifndef CRASHES
#define CRASHES 0
#endif

#if VARIANT < LB || VARIANT > VERSIONED_PURGE
#error "VARIANT must be LB, STALE_CACHE, PURGE or VERSIONED_PURGE"
#endif
#if CLIENTS < 1 || CLIENTS > 4 || OPS < 1 || OPS > 4 || CLIENTS * OPS > 8
#error "CLIENTS 1..4, OPS 1..4, CLIENTS*OPS <= 8"
#endif
#if SERVERS < 1 || SERVERS > 4 || LOSS < 0 || LOSS > 4 || CRASHES < 0 || CRASHES > SERVERS
#error "SERVERS 1..4, LOSS 0..4, CRASHES 0..SERVERS"
#endif

#if VARIANT == LB
#define CACHES 0
#else
#define CACHES 1
#endif
#if VARIANT == PURGE || VARIANT == VERSIONED_PURGE
#define PURGES 1
#else
#define PURGES 0
#endif

/* message kinds */
#define REQ      1   /* lb inbox:       a = requester, b = seq, c = file          */
#define CONTENT  2   /* lb inbox:       a = server, b = requester, c = seq, d = file*4+version */
#define PURGE_M  3   /* lb reliable inbox (from the operator)                     */
#define FORWARD  4   /* server inbox:   a = requester, b = seq, c = file          */
#define DEPLOY   5   /* server reliable inbox (from the operator)                 */
#define DEPLOYED 6   /* operator reliable inbox: a = server                       */
#define PURGED   7   /* operator reliable inbox (from the lb)                     */
#define REPLY    8   /* client/operator inbox: a = seq, b = file, c = version     */

#define OPER CLIENTS            /* the operator's requester number (its client index) */
#define NT   (CLIENTS * OPS + 1) /* GETs in one run, the operator's included */
#define QL   (2 * NT + 2)   /* lq: REQs and CONTENTs */
#define QS   (NT + 2)       /* sq[s]: FORWARDs */
#define QO   1              /* oq: the reply to the site check (one GET, one reply) */
#define QR   (SERVERS + 1)  /* orq: the DEPLOYEDs and the PURGED */
#define QC   (OPS + 1)      /* cq[c]: REPLYs */
#define ALL  ((1 << SERVERS) - 1)

/* the file requester r asks for in its request k: page(c + k), the operator index.html */
#define FILE_OF(r, k) ((r) == OPER -> 0 : ((r) + (k)) % 2)

/* lossy inboxes */
chan lq = [QL] of { byte, byte, byte, byte, byte };
chan sq[SERVERS] = [QS] of { byte, byte, byte, byte, byte };
chan oq = [QO] of { byte, byte, byte, byte, byte };
chan cq[CLIENTS] = [QC] of { byte, byte, byte, byte, byte };
/* reliable inboxes: the purge, a server's deploy, the operator's acks */
chan lrq = [1] of { byte, byte, byte, byte, byte };
chan srq[SERVERS] = [1] of { byte, byte, byte, byte, byte };
chan orq = [QR] of { byte, byte, byte, byte, byte };

byte lost;    /* messages lost so far (SysState::lost) */
byte ndown;   /* actors down now (lb and servers) */

#define SEND_REQUEST(r, k) lq !! REQ, r, k, FILE_OF(r, k), 0

/* a reply from the lb to requester r */
#define SEND_REPLY(r, k, f, v) \
  if \
  :: (r) == OPER -> oq !! REPLY, k, f, v, 0 \
  :: else -> cq[r] !! REPLY, k, f, v, 0 \
  fi

#define TEMPS \
  byte kind, fa, fb, fc, fd; \
  byte k2, a2, b2, c2, d2; \
  byte n

#define CLEAR kind = 0; fa = 0; fb = 0; fc = 0; fd = 0

/* Takes the n-th message (n nondeterministic) of sorted channel q into kind, fa..fd. */
#define TAKE(q) \
  select(n : 0 .. len(q) - 1); \
  do \
  :: n > 0 -> q ? k2, a2, b2, c2, d2; park ! k2, a2, b2, c2, d2; n-- \
  :: else -> break \
  od; \
  q ? kind, fa, fb, fc, fd; \
  do \
  :: nempty(park) -> park ? k2, a2, b2, c2, d2; q !! k2, a2, b2, c2, d2 \
  :: empty(park) -> break \
  od; \
  k2 = 0; a2 = 0; b2 = 0; c2 = 0; d2 = 0

#define PUT_BACK(q) q !! kind, fa, fb, fc, fd

/* loss: any message of lossy inbox q (also a crashed actor's) */
#define LOSE(q) \
  :: atomic { \
       lost < LOSS && nempty(q) -> \
       TAKE(q); \
       lost++; \
       CLEAR \
     }

proctype Lb()
{
  bit down;
  byte cache[2];      /* cached version of each file, 0: none */
  byte hit[3];        /* cache hits (file, version) in order, each file*2+version */
  byte floor0;        /* index.html's cache floor (logo.png's is always 0) */
  byte i, v, s;
  TEMPS;
  chan routes = [NT] of { byte, byte };   /* pending route choices (requester, seq) */
  chan park = [QL] of { byte, byte, byte, byte, byte };
  chan inbox = lq;     /* lossy: REQs and CONTENTs */
  chan rinbox = lrq;   /* reliable: the purge */
end:
  do
  :: atomic {
       !down && nempty(inbox) ->
       TAKE(inbox);
       if
       :: kind == REQ ->
          if
          :: cache[fc] != 0 ->
             v = cache[fc];
             i = 0;
             do
             :: i < 3 && hit[i] != 0 && hit[i] != fc * 2 + v -> i++
             :: else -> break
             od;
             if
             :: i < 3 && hit[i] == 0 -> hit[i] = fc * 2 + v
             :: else -> skip
             fi;
             SEND_REPLY(fa, fb, fc, v)
          :: else -> routes !! fa, fb
          fi
       :: kind == CONTENT ->
          v = fd % 4;
          fd = fd / 4;
#if CACHES
          if
          :: v >= (fd == 0 -> floor0 : 0) -> cache[fd] = v
          :: else -> skip
          fi;
#endif
          SEND_REPLY(fb, fc, fd, v)
       fi;
       i = 0; v = 0;
       CLEAR
     }
  :: atomic {
       !down && nempty(rinbox) ->
       rinbox ? _, _, _, _, _;   /* the PURGE_M */
       cache[0] = 0;
#if VARIANT == VERSIONED_PURGE
       floor0 = 2;
#endif
       orq !! PURGED, 0, 0, 0, 0
     }
  :: atomic {
       nempty(routes) ->
       /* the lb picks a server for a pending GET */
       select(n : 0 .. len(routes) - 1);
       do
       :: n > 0 -> routes ? a2, b2; park ! a2, b2, 0, 0, 0; n--
       :: else -> break
       od;
       routes ? fa, fb;
       do
       :: nempty(park) -> park ? a2, b2, c2, d2, k2; routes !! a2, b2
       :: empty(park) -> break
       od;
       a2 = 0; b2 = 0; c2 = 0; d2 = 0; k2 = 0;
       select(s : 0 .. SERVERS - 1);
       sq[s] !! FORWARD, fa, fb, FILE_OF(fa, fb), 0;
       s = 0;
       CLEAR
     }
  LOSE(inbox)
  :: atomic {
       !down && ndown < CRASHES ->
       down = 1; ndown++;
       /* a crash drops the pending route choices */
       do
       :: nempty(routes) -> routes ? a2, b2
       :: empty(routes) -> break
       od;
       a2 = 0; b2 = 0
     }
  :: atomic {
       down ->
       /* restart: the cache and hits were in memory; the floor is on disk */
       down = 0; ndown--;
       cache[0] = 0; cache[1] = 0;
       hit[0] = 0; hit[1] = 0; hit[2] = 0
     }
  od
}

proctype Server(byte me)
{
  bit down;
  byte f0 = 1;   /* index.html's version (logo.png's is always 1) */
  TEMPS;
  chan park = [QS] of { byte, byte, byte, byte, byte };
  chan inbox = sq[me];     /* lossy: FORWARDs */
  chan rinbox = srq[me];   /* reliable: the deploy */
end:
  do
  :: atomic {
       !down && nempty(inbox) ->
       TAKE(inbox);   /* a FORWARD */
       lq !! CONTENT, me, fa, fb, fc * 4 + (fc == 0 -> f0 : 1);
       CLEAR
     }
  :: atomic {
       !down && nempty(rinbox) ->
       rinbox ? _, _, _, _, _;   /* the DEPLOY */
       f0 = 2;
       orq !! DEPLOYED, me, 0, 0, 0
     }
  LOSE(inbox)
  :: atomic { !down && ndown < CRASHES -> down = 1; ndown++ }
  :: atomic { down -> down = 0; ndown-- }
  od
}

#define START_CHECK olog = 1; SEND_REQUEST(OPER, 0)

proctype Operator()
{
  byte conf;     /* servers that confirmed the deploy, a bit each */
  bit purged;
  byte olog;     /* the site check: 0 not started, 1 waiting, 2 timed out, 3 got v1, 4 got v2 */
  TEMPS;
  chan park = [QR] of { byte, byte, byte, byte, byte };
  chan inbox = oq;     /* lossy: the REPLY */
  chan rinbox = orq;   /* reliable: DEPLOYEDs, the PURGED */
end:
  do
  :: atomic {
       nempty(rinbox) ->
       TAKE(rinbox);
       if
       :: kind == DEPLOYED ->
          conf = conf | (1 << fa);
          if
          :: conf == ALL ->
#if PURGES
             lrq !! PURGE_M, 0, 0, 0, 0
#else
             START_CHECK
#endif
          :: else -> skip
          fi
       :: kind == PURGED ->
          purged = 1;
          START_CHECK
       fi;
       CLEAR
     }
  :: atomic {
       nempty(inbox) ->
       TAKE(inbox);   /* a REPLY */
       if
       :: olog == 1 ->
          /* no_wrong_reply_under_loss: the file asked for, a version that exists */
          assert(fb == 0 && fc >= 1 && fc <= 2);
          /* correct_content: released before it asked, so v2 */
          assert(fc >= 2);
          olog = 2 + fc
       :: else ->
          /* a reply to an abandoned GET: a stateright no-op, back to the same state */
          PUT_BACK(inbox)
       fi;
       CLEAR
     }
  :: atomic { olog == 1 -> olog = 2 }
  LOSE(inbox)
  od
}

proctype Client(byte c)
{
  byte seq;
  byte res[OPS];   /* how request k < seq ended: 1 timed out, 2 got v1, 3 got v2 */
  TEMPS;
  chan park = [QC] of { byte, byte, byte, byte, byte };
  chan inbox = cq[c];
end:
  do
  :: atomic {
       inbox ?? REPLY, eval(seq), fb, fc, fd ->
       /* no_wrong_reply_under_loss, correct_content (floor v1): the file asked for */
       assert(fb == FILE_OF(c, seq) && fc >= 1 && fc <= (fb == 0 -> 2 : 1));
       res[seq] = fc + 1;
       seq++;
       if
       :: seq < OPS -> SEND_REQUEST(c, seq)
       :: else -> skip
       fi;
       CLEAR
     }
  :: atomic {
       seq < OPS ->
       res[seq] = 1;
       seq++;
       if
       :: seq < OPS -> SEND_REQUEST(c, seq)
       :: else -> skip
       fi
     }
  LOSE(inbox)
  od
}

init
{
  byte i;
  atomic {
    run Lb();
    i = 0;
    do
    :: i < SERVERS -> run Server(i); srq[i] !! DEPLOY, 0, 0, 0, 0; i++
    :: else -> break
    od;
    run Operator();
    i = 0;
    do
    :: i < CLIENTS -> run Client(i); SEND_REQUEST(i, 0); i++
    :: else -> break
    od;
    i = 0
  }
}
