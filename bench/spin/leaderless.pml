/*
 * leaderless.pml: the Promela twin of splitbrain's models/leaderless.rs (Dynamo-style
 * leaderless replication: quorum writes and reads coordinated by each client's driver,
 * turns passed round robin between clients, read repair, sloppy quorum with a fallback).
 *
 *   spin -a -DVARIANT=QUORUM -DCLIENTS=2 -DSERVERS=3 -DLOSS=1 leaderless.pml
 *   gcc -O2 -DSAFETY [-DNOREDUCE] -o pan pan.c && ./pan -c0 -m1000000
 *
 * Macros (defaults = splitbrain's default bounds):
 *   VARIANT  R1_W1 | QUORUM | QUORUM_READ_REPAIR | SLOPPY_QUORUM   (default R1_W1)
 *            (splitbrain's r1-w1, quorum, quorum-read-repair, sloppy-quorum; not the mutants)
 *   CLIENTS 1..3   SERVERS 2..5 (replicas, N)   OPS 1..3 (CLIENTS*OPS <= 6)
 *   LOSS 0..2   CRASHES 0..1 (at most SERVERS-1)
 *   Only the unordered (non-duplicating) network is modelled. `states, stored`
 *   (-DNOREDUCE) was compared with splitbrain's `check --reduce none` for every variant
 *   and every combination in these ranges where splitbrain finishes within 150,000
 *   states (560 configurations, up to 145,932 states; all equal to unique_states + 1,
 *   with assertion violations exactly where splitbrain reports a violation), and at the
 *   bench bounds (clients 2 and 3 at servers 3, servers 5 at clients 2 for r1-w1 and
 *   quorum: up to 265,276 states). The state vector stays under pan's default 1024
 *   bytes in these ranges (at most 872: QUORUM_READ_REPAIR, CLIENTS=3 OPS=2 SERVERS=5);
 *   larger bounds may need -DVECTORSZ.
 *
 * R = W = 1 in R1_W1, R = W = N/2+1 otherwise.
 *
 * Mapping to the Rust model (stateright ActorModel wrapped in src/system.rs):
 *   - actor ids: replicas 0..N-1 (proctype Replica(i)), the fallback N (SLOPPY_QUORUM
 *     only, proctype Fallback), clients after them (proctype Client(c), c = client
 *     index; client 0 is the writer, the others only read).
 *   - values: the j-th write of the run writes value j as version j, and a register only
 *     ever holds a written pair or (0, 0), so value == version everywhere (registers,
 *     hints, replies, repairs, handoffs) and only versions are kept. The writer writes
 *     at its even operations: operation k writes version k/2+1.
 *   - Replica: `ver`, its register. Its storage is saved exactly when the register
 *     changes and versions only grow, so storage == None exactly while ver == 0 and
 *     equals the state otherwise: not kept. `down`: its crashed flag.
 *   - Fallback: hv[i], the version of the hint held for home replica i (0: none; one
 *     hint per home, kept sorted by home in Rust, which an array indexed by home is);
 *     `saved`: its storage is Some (it saves at every hinted write and every scan, so
 *     once saved the storage equals its hints; but after a scan the hints are empty
 *     again while the storage is Some([]), not None: this bit tells the two apart).
 *     `nh` (hints held) is a function of hv. The Background timer is set at every
 *     hinted write, cancelled when it fires (the scan hands off every hint), cancelled
 *     by a crash and set again on restart iff hints are held: it is set exactly while
 *     !down && nh > 0, the guard of the scan step, so it is not stored. `down`.
 *   - Client: seq (ClientState::seq); busy (IDLE / WRITING / READING: DriverState::busy);
 *     acked and hinted (InProgress::Write); rep[i] (ReadRound replies: version + 1, 0 =
 *     none; ReadRound::seq is always the client's seq); known[i] (QUORUM_READ_REPAIR
 *     only: DriverState::known, empty in the other variants); rver[k], the version that
 *     operation k < seq read (0 for writes). ClientState::attempt and token are
 *     always 0, and the log has one event per started operation: operations k < seq
 *     replied (a write Written{k/2+1}, a read Value{rver[k], rver[k]}), operation seq
 *     pending iff busy: so (seq, busy, rver) is the log.
 *     Random choices: `asking` is the pending "ask" choice of a read (its choices are
 *     always every R-subset of the replicas: only whether it is pending is state). The
 *     "give up" choice (SLOPPY_QUORUM) is pending exactly while busy == WRITING &&
 *     !hinted, with one choice per replica not in acked: it is offered when a write
 *     starts and renewed at every ack that does not complete it, removed when the write
 *     completes, consumed when picked (which sets hinted). Not stored: it is the guard
 *     of the give-up step.
 *     Clients have no timers (no timeouts) and cannot crash. A client that completes
 *     an operation sends TURN to the next client (turn < CLIENTS*OPS), or with
 *     CLIENTS=1 starts its next operation in the same step, as Driver::finish does.
 *   - `lost` is SysState::lost; `ndown` (servers down) is a function of the `down` flags.
 *   - the unordered non-duplicating network (a multiset of envelopes) is kept as
 *     channels written with sorted send `!!`, so that equal multisets are always equal
 *     channel contents. A receiver of both kinds has two inboxes, one for the lossy
 *     messages and one for the reliable ones (TURN and HANDOFF: the model's
 *     Node::lossy); the inbox is a function of the kind, so each pair is still a
 *     canonical multiset. Messages are {kind, src, seq, ver, home} (unused fields 0):
 *       replica  rq:  WRITE   src = client, seq, ver = seq/2+1   (Peer::Write)
 *                     READ    src = client, seq                  (Peer::Read)
 *                     REPAIR  src = client, ver                  (Peer::Repair)
 *                hq:  HANDOFF src = N (fallback), ver            (Peer::Handoff;
 *                     reliable, SLOPPY_QUORUM only)
 *       fallback fq:  HINTED  src = client, seq, ver, home       (Peer::Hinted)
 *       client   cq:  ACK     src = replica, seq, ver            (Peer::Ack)
 *                     HINTACK src = N (fallback), seq, ver, home (Peer::HintAck)
 *                     VALUE   src = replica, seq, ver            (Peer::Value)
 *                tq:  TURN    src = previous client, seq = turn  (Peer::Turn; reliable,
 *                     CLIENTS > 1 only)
 *   - one stateright step = one atomic sequence (pan stores no state inside it):
 *       Deliver: the receiver takes the n-th message of either of its inboxes (n chosen
 *       nondeterministically; the messages before it are parked in the global channel
 *       `park`, empty between steps, and put back sorted). A delivery that changes
 *       nothing and sends nothing is not a stateright step (the message stays in
 *       flight): a REPAIR or HANDOFF no newer than the register, an ACK or HINTACK of
 *       another operation or of a replica already counted, a VALUE not for the read in
 *       progress or from a replica that already answered, a TURN not for the client's
 *       turn. The twin takes it and puts it back: a step to the same state, which stores
 *       nothing. No delivery to a crashed server.
 *       Drop: while lost < LOSS, any message of any lossy inbox, a crashed server's
 *       too; the owner of the inbox removes it, lost++. TURNs and HANDOFFs wait in the
 *       reliable inboxes, which have no loss step: pan only ever tries to lose a lossy
 *       message, as src/system.rs offers a Drop only for one (may_lose).
 *       Timeout: the fallback's scan (its Background timer, see above).
 *       SelectRandom: a client's "ask" pick (sends READ to the R replicas picked) and,
 *       in SLOPPY_QUORUM, the writer's "give up" pick (sends HINTED for that home).
 *       Crash/Recover: a replica or the fallback goes down while fewer than CRASHES are
 *       down; restarting restores it from its storage, which equals its state (above).
 *   - temporaries are 0 between steps.
 *   - spin's data-flow optimisation (on by default) resets variables that no step
 *     reads, and no step of the model needs `saved`: the scan guard reads it (it holds
 *     whenever hints are held, so the guard is unchanged), which keeps it in the state.
 *     Without that, pan merged Rust states that differ only in the fallback's storage.
 *   - init runs the actors and the writer's on_start (WRITE of version 1 to every
 *     replica; the writer's `busy` starts as WRITING) atomically: SPIN's `states,
 *     stored` (-DNOREDUCE) = splitbrain's unique_states + 1 (the state before init).
 *
 * Properties, asserted locally in the client when a read completes with version nv:
 *   - reads_see_latest_write: nv >= seq/2+1. A read of client c at operation seq is turn
 *     seq*CLIENTS + c; every earlier turn completed (the turn passes only then), so the
 *     writes acknowledged before it are the writer's operations k <= seq (k < seq for
 *     the writer itself) with k even: versions 1..seq/2+1.
 *   - read_your_writes: only the writer writes, and its last write before its read at
 *     (odd) operation seq has version (seq-1)/2+1 = seq/2+1: the same assertion.
 *   - monotonic_reads: nv >= rver[k] for every k < seq.
 *   pan's errors (-c0) are non-zero exactly where splitbrain finds one of the three
 *   violated (at the bench bounds: r1-w1 and sloppy-quorum, all three violated; quorum
 *   and quorum-read-repair, all three hold; likewise over the ranges compared above).
 *   replicas_converge is an `eventually` property over all replicas: left out.
 *
 * Partial-order reduction: every step sends or receives on the inboxes, which cannot be
 * declared `xr`/`xs` (pan rejects sorted send `!!` and random receive on exclusive
 * channels, and the canonical multiset needs `!!`), and touches the global `park`;
 * `lost` and `ndown` are globals. SPIN's POR finds nothing to reduce here: without
 * -DNOREDUCE pan stores the same number of states (checked at the bench bounds).
 */

#define R1_W1              1
#define QUORUM             2
#define QUORUM_READ_REPAIR 3
#define SLOPPY_QUORUM      4

#ifndef VARIANT
#define VARIANT R1_W1
#endif
#ifndef CLIENTS
#define CLIENTS 2
#endif
#ifndef OPS
#define OPS 2
#endif
#ifndef SERVERS
#define SERVERS 3
#endif
#ifndef LOSS
#define LOSS 1
#endif
#ifndef CRASHES
#define CRASHES 0
#endif

#define N SERVERS
#if VARIANT == R1_W1
#define R 1
#define W 1
#else
#define R (N / 2 + 1)
#define W (N / 2 + 1)
#endif
#if VARIANT == QUORUM_READ_REPAIR
#define REPAIRING 1
#else
#define REPAIRING 0
#endif
#if VARIANT == SLOPPY_QUORUM
#define SLOPPY 1
#else
#define SLOPPY 0
#endif

/* message kinds */
#define WRITE   1   /* client -> replica */
#define READ    2   /* client -> replica */
#define REPAIR  3   /* client -> replica */
#define HANDOFF 4   /* fallback -> replica */
#define HINTED  5   /* client -> fallback */
#define ACK     6   /* replica -> client */
#define HINTACK 7   /* fallback -> client */
#define VALUE   8   /* replica -> client */
#define TURN    9   /* client -> client */

/* a client's operation in progress */
#define IDLE   0
#define WRITING 1
#define READING 2

#define FB N                    /* the fallback's actor id */
#define TOTAL (CLIENTS * OPS)   /* turns in a run */
#define NW ((OPS + 1) / 2)      /* writes in a run (the writer's even operations) */
#define NR (TOTAL - NW)         /* reads in a run */
/* inbox capacities: at most one WRITE per write and one READ (and REPAIR) per read
 * reach a replica, and one HANDOFF per write (one HINTED per write, one hint per
 * HINTED); a client gets at most N ACKs (and a HINTACK) per write and R VALUEs per
 * read, and at most one TURN is in flight; the fallback gets one HINTED per write */
#define QR (NW + NR + REPAIRING * NR)   /* rq: lossy */
#define QH NW                           /* hq: reliable (HANDOFF) */
#define QC ((N + SLOPPY) * NW + R * OPS) /* cq: lossy */
#define QT 1                            /* tq: reliable (TURN) */
#define QF NW                           /* fq: lossy */
/* park: as large as the largest inbox (QH <= QR, QT <= QC) */
#if QR > QC
#define QP QR
#else
#define QP QC
#endif

/* lossy inboxes */
chan rq[N] = [QR] of { byte, byte, byte, byte, byte };
#if SLOPPY
chan fq = [QF] of { byte, byte, byte, byte, byte };
#endif
chan cq[CLIENTS] = [QC] of { byte, byte, byte, byte, byte };
/* reliable inboxes: a replica's HANDOFFs, a client's TURN */
#if SLOPPY
chan hq[N] = [QH] of { byte, byte, byte, byte, byte };
#endif
#if CLIENTS > 1
chan tq[CLIENTS] = [QT] of { byte, byte, byte, byte, byte };
#endif
/* where TAKE parks the messages before the one taken: empty between steps (one
 * channel for all: every use is inside one atomic step) */
chan park = [QP] of { byte, byte, byte, byte, byte };

byte lost;    /* messages lost so far (SysState::lost) */
byte ndown;   /* servers down now: a function of the `down` flags */

/* Takes the n-th message (n nondeterministic) of sorted channel q into the f* fields. */
#define TAKE(q) \
  select(n : 0 .. len(q) - 1); \
  do \
  :: n > 0 -> q ? k2, s2, q2, v2, h2; park ! k2, s2, q2, v2, h2; n-- \
  :: else -> break \
  od; \
  q ? kind, fsrc, fseq, fver, fhome; \
  do \
  :: nempty(park) -> park ? k2, s2, q2, v2, h2; q !! k2, s2, q2, v2, h2 \
  :: empty(park) -> break \
  od; \
  k2 = 0; s2 = 0; q2 = 0; v2 = 0; h2 = 0

/* puts the taken message back: the step is a stateright no-op (not taken) */
#define PUT_BACK(q) q !! kind, fsrc, fseq, fver, fhome

#define TEMPS \
  byte kind, fsrc, fseq, fver, fhome; \
  byte k2, s2, q2, v2, h2; \
  byte n

#define CLEAR kind = 0; fsrc = 0; fseq = 0; fver = 0; fhome = 0

/* loss: any message of lossy inbox q (also a crashed server's) */
#define LOSE(q) \
  :: atomic { \
       lost < LOSS && nempty(q) -> \
       TAKE(q); \
       lost++; \
       CLEAR \
     }

/* a server's loss (of its lossy inbox q) and crash steps */
#define FAULTS(q) \
  LOSE(q) \
  :: atomic { !down && ndown < CRASHES -> down = 1; ndown++ } \
  :: atomic { down -> down = 0; ndown-- }

proctype Replica(byte me)
{
  bit down;
  byte ver;   /* the register: value == version */
  TEMPS;
  chan inbox = rq[me];     /* lossy: WRITEs, READs, REPAIRs */
#if SLOPPY
  chan hinbox = hq[me];    /* reliable: HANDOFFs */
#endif
end:
  do
  :: atomic {
       !down && nempty(inbox) ->
       TAKE(inbox);
       if
       :: kind == WRITE ->
          if
          :: fver > ver -> ver = fver
          :: else -> skip
          fi;
          cq[fsrc] !! ACK, me, fseq, fver, 0
       :: kind == READ ->
          cq[fsrc] !! VALUE, me, fseq, ver, 0
       :: else ->   /* REPAIR */
          if
          :: fver > ver -> ver = fver
          :: else -> PUT_BACK(inbox)
          fi
       fi;
       CLEAR
     }
#if SLOPPY
  :: atomic {
       !down && nempty(hinbox) ->
       TAKE(hinbox);   /* a HANDOFF */
       if
       :: fver > ver -> ver = fver
       :: else -> PUT_BACK(hinbox)
       fi;
       CLEAR
     }
#endif
  FAULTS(inbox)
  od
}

#if SLOPPY
proctype Fallback()
{
  bit down;
  bit saved;       /* storage is Some(hints) (else None) */
  byte hv[N];      /* hint for home replica i: its version (0: none) */
  byte nh;         /* hints held: a function of hv */
  byte i;
  TEMPS;
  chan inbox = fq;
end:
  do
  :: atomic {
       !down && nempty(inbox) ->
       TAKE(inbox);
       /* HINTED */
       if
       :: hv[fhome] == 0 -> hv[fhome] = fver; nh++
       :: hv[fhome] != 0 && hv[fhome] < fver -> hv[fhome] = fver
       :: else -> skip
       fi;
       saved = 1;
       cq[fsrc] !! HINTACK, FB, fseq, fver, fhome;
       CLEAR
     }
  :: atomic {
       /* the Background timer is set exactly while hints are held and it is up
        * (`saved` holds then too; reading it keeps spin's dead-variable
        * optimisation from resetting it: it is never read otherwise) */
       !down && nh > 0 && saved ->
       i = 0;
       do
       :: i < N ->
          if
          :: hv[i] != 0 -> hq[i] !! HANDOFF, FB, 0, hv[i], 0; hv[i] = 0
          :: else -> skip
          fi;
          i++
       :: else -> break
       od;
       nh = 0;
       i = 0
     }
  FAULTS(inbox)   /* every HINTED may be lost */
  od
}
#endif

inline begin()
{
  if
  :: c == 0 && seq % 2 == 0 ->
     busy = WRITING;
     i = 0;
     do
     :: i < N -> rq[i] !! WRITE, c, seq, seq / 2 + 1, 0; i++
     :: else -> break
     od;
     i = 0
  :: else ->
     busy = READING;
     asking = 1
  fi
}

inline finish()
{
  busy = IDLE;
  acked = 0;
  hinted = 0;
  i = 0;
  do
  :: i < N -> rep[i] = 0; i++
  :: else -> break
  od;
  i = 0;
  t = seq * CLIENTS + c + 1;
  seq++;
  if
  :: t < TOTAL ->
#if CLIENTS == 1
     begin()
#else
     tq[(c + 1) % CLIENTS] !! TURN, c, t, 0, 0
#endif
  :: else -> skip
  fi;
  t = 0
}

proctype Client(byte c)
{
  byte seq;                            /* ClientState::seq */
  byte busy = (c == 0 -> WRITING : IDLE);
  byte acked;                          /* InProgress::Write acked */
  bit hinted;                          /* InProgress::Write hinted */
  bit asking;                          /* the "ask" random choice is pending */
  byte rep[N];                         /* ReadRound replies: version + 1 (0: none) */
#if REPAIRING
  byte known[N];                       /* DriverState::known */
#endif
  byte rver[OPS];                      /* version read by operation k < seq (reads) */
  byte i, k, t, u, nv;
  TEMPS;
  chan inbox = cq[c];      /* lossy: ACKs, HINTACKs, VALUEs */
#if CLIENTS > 1
  chan tinbox = tq[c];     /* reliable: the TURN */
#endif
end:
  do
#if CLIENTS > 1
  :: atomic {
       nempty(tinbox) ->
       tinbox ? kind, fsrc, fseq, fver, fhome;   /* the TURN (QT = 1: no pick) */
       if
       :: busy == IDLE && fseq == seq * CLIENTS + c -> begin()
       :: else -> PUT_BACK(tinbox)
       fi;
       CLEAR
     }
#endif
  :: atomic {
       nempty(inbox) ->
       TAKE(inbox);
       if
       :: kind == ACK || kind == HINTACK ->
          u = (kind == ACK -> 1 << fsrc : 1 << fhome);
          if
          :: fseq == seq && busy == WRITING && (acked | u) != acked ->
             acked = acked | u;
#if REPAIRING
             if
             :: kind == ACK && known[fsrc] < fver -> known[fsrc] = fver
             :: else -> skip
             fi;
#endif
             k = 0; i = 0;
             do
             :: i < N -> k = k + ((acked >> i) & 1); i++
             :: else -> break
             od;
             i = 0;
             if
             :: k >= W -> finish()
             :: else -> skip
             fi;
             k = 0
          :: else -> PUT_BACK(inbox)
          fi;
          u = 0
       :: kind == VALUE ->
          if
          :: busy == READING && fseq == seq && rep[fsrc] == 0 ->
             rep[fsrc] = fver + 1;
             k = 0; i = 0; nv = 0;
             do
             :: i < N ->
                if
                :: rep[i] != 0 ->
                   k++;
                   if
                   :: rep[i] - 1 > nv -> nv = rep[i] - 1
                   :: else -> skip
                   fi
                :: else -> skip
                fi;
                i++
             :: else -> break
             od;
             i = 0;
             if
             :: k >= R ->
#if REPAIRING
                do
                :: i < N ->
                   if
                   :: rep[i] != 0 && known[i] < rep[i] - 1 -> known[i] = rep[i] - 1
                   :: else -> skip
                   fi;
                   if
                   :: known[i] < nv -> rq[i] !! REPAIR, c, 0, nv, 0; known[i] = nv
                   :: else -> skip
                   fi;
                   i++
                :: else -> break
                od;
                i = 0;
#endif
                /* reads_see_latest_write (and read_your_writes for the writer): the
                 * turns before this one acknowledged the writes of versions 1..seq/2+1 */
                assert(nv >= seq / 2 + 1);
                /* monotonic_reads */
                do
                :: i < seq -> assert(nv >= rver[i]); i++
                :: else -> break
                od;
                i = 0;
                rver[seq] = nv;
                finish()
             :: else -> skip
             fi;
             k = 0; nv = 0
          :: else -> PUT_BACK(inbox)
          fi
       fi;
       CLEAR
     }
  :: atomic {
       /* SelectRandom "ask": the R replicas this read asks */
       asking ->
       asking = 0;
       i = 0; k = 0;
       do
       :: i < N && k < R -> rq[i] !! READ, c, seq, 0, 0; k++; i++
       :: i < N && N - i > R - k -> i++
       :: i == N -> break
       od;
       i = 0; k = 0
     }
#if SLOPPY
  :: atomic {
       /* SelectRandom "give up": a home replica that has not acknowledged */
       busy == WRITING && !hinted ->
       u = ~acked & ((1 << N) - 1);
       i = 0;
       do
       :: (u >> i) & 1 -> break
       :: (u >> (i + 1)) != 0 -> i++
       od;
       hinted = 1;
       fq !! HINTED, c, seq, seq / 2 + 1, i;
       i = 0; u = 0
     }
#endif
  LOSE(inbox)
  od
}

init
{
  byte i;
  atomic {
    i = 0;
    do
    :: i < N -> run Replica(i); i++
    :: else -> break
    od;
#if SLOPPY
    run Fallback();
#endif
    i = 0;
    do
    :: i < CLIENTS -> run Client(i); i++
    :: else -> break
    od;
    /* the writer's on_start: its first operation, write x=1 (version 1) */
    i = 0;
    do
    :: i < N -> rq[i] !! WRITE, 0, 0, 1, 0; i++
    :: else -> break
    od;
    i = 0
  }
}
