/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HMX ring protocol (docs/hmx-abi.md sections 3, 5 and 6) between the
 * hypervisor as the only writer and a receiving guest as the reader, with
 * NSEND sending domains. The hypervisor's SENDV and NOTIFY run on the
 * caller's vCPU, serialized per ring by the ring lock; the reader takes no
 * lock. Offsets are in bytes as in the ABI; the ring holds NSLOTS slots of
 * SLOT bytes, one of them always free. constants.pml is generated from
 * include/bulkhead/hmx.h by model/constants.c (see model/check).
 *
 * What is checked (model/check runs each):
 *  - assertions: the hypervisor never writes a slot the reader has not
 *    consumed (ghost "unread" marks), the reader gets every message once,
 *    whole, in order per sender; the hypervisor's producer offset stays a
 *    valid offset whatever the reader writes into rx_ptr; array indices
 *    stay in bounds (pan checks every index);
 *  - no invalid end state: no deadlock, in particular none where a sender
 *    waits for HMX_IRQ_SPACE that never comes while the reader waits for
 *    data (a lost wake-up);
 *  - LTL under weak fairness: a waiting sender is always woken again
 *    (no_lost_wakeup), and every message is delivered (all_delivered).
 *
 * -DGARBAGE gives the reader the power to write anything into rx_ptr (and
 * tx_ptr) at any time and to notify with it. Its own data is then its own
 * problem; what must still hold is the hypervisor's side: no write outside
 * the ring, a valid producer offset, every operation completes and
 * releases the lock, and waiters are woken (to find -ECONNRESET).
 *
 * -DSTATUS_WORD models the interrupt status word in guest memory (section
 * 4 of the ABI) instead of the IRQ_STATUS register: the hypervisor ORs
 * HMX_IRQ_DATA into the word and raises the interrupt only on the word's
 * 0 -> non-zero edge; the reader holds the word at HMX_STATUS_BUSY while
 * it drains and ends a pass with a compare-exchange from BUSY to 0, which
 * fails (another pass) if data came in meanwhile. -DBUG_STATUS_STORE ends
 * the pass with a plain store of 0 instead: the lost wake-up it causes
 * must be found.
 *
 * -DNOTIFY_FLAG models notification suppression: the hypervisor keeps a
 * flag in the ring header set while a sender waits for space in the ring,
 * and the reader NOTIFYs after consuming only if it reads the flag set.
 * Storing a wait sets the flag and then reads rx_ptr again (the reader
 * stores rx_ptr, then reads the flag: one of the two sees the other), and
 * wakes the sender at once if the space is there. -DBUG_NO_RECHECK skips
 * that second read: the lost wake-up must be found.
 *
 * -DBUG_* variants break one rule each; model/check requires spin to find
 * each of them, so the properties above are known to have teeth.
 */
#include "constants.pml"

#ifndef NSEND
#define NSEND 2
#endif
#ifndef MSGS
#define MSGS 2 /* messages per sender */
#endif
#define TOTAL (NSEND * MSGS)
/* Some sender waits (the flag's value); written out for NSEND <= 3. */
#define ANY_PENDING \
	(pending[0] > 0 || pending[NSEND - 1] > 0 || pending[NSEND / 2] > 0)

/* What the hypervisor accepts as rx_ptr (SENDV step 8). */
#define VALID(v) ((v) < LEN && (v) % SLOT == 0)
/* Free bytes for the next message: one slot always stays free. */
#ifndef BUG_NO_RESERVE
#define FREE(rx, t) \
	((rx) > (t) -> (rx) - (t) - RESERVED_SLOTS * SLOT : \
		       LEN - ((t) - (rx)) - RESERVED_SLOTS * SLOT)
#else
#define FREE(rx, t) ((rx) > (t) -> (rx) - (t) : LEN - ((t) - (rx)))
#endif
/* A message's identity, written into each of its slots. */
#define TAG(s, n) ((s) * 16 + (n) + 1)
#define SENDER(tag) (((tag) - 1) / 16)

byte rx_ptr; /* ring header, written by the reader */
byte tx_ptr; /* ring header, written by the hypervisor */
byte tx; /* the hypervisor's private producer offset */
byte slot_tag[NSLOTS]; /* what each slot holds */
byte slot_len[NSLOTS]; /* in a header slot: the message's length in slots */
bool unread[NSLOTS]; /* ghost: published, not yet consumed */
byte pending[NSEND]; /* bytes a waiting sender needs; 0: no entry */
bool irq_space[NSEND]; /* HMX_IRQ_SPACE latched for the sender's domain */
bool irq_data; /* HMX_IRQ_DATA latched for the reader's domain */
#define W_DATA 1 /* HMX_IRQ_DATA in the status word */
#define W_BUSY 2 /* HMX_STATUS_BUSY */
byte word = W_BUSY; /* the status word; the reader starts in a pass */
bool irq; /* the interrupt, raised and not yet taken */
bool want_notify; /* ring header: a sender waits for space (NOTIFY_FLAG) */
bool ring_lock;
bool waiting[NSEND]; /* ghost: sender blocked on HMX_IRQ_SPACE */
byte delivered; /* ghost: messages the reader took */

/* NOTIFY's wake-up half, on the reader's vCPU. */
inline notify(r, s)
{
#ifndef BUG_NO_LOCK
	atomic { !ring_lock -> ring_lock = true };
#endif
	r = rx_ptr; /* read once */
	s = 0;
	do
	:: s < NSEND ->
		if
#ifndef BUG_WAKE_STRICT
		:: pending[s] > 0 && (!VALID(r) || pending[s] <= FREE(r, tx)) ->
#else
		:: pending[s] > 0 && (!VALID(r) || pending[s] < FREE(r, tx)) ->
#endif
			pending[s] = 0;
			irq_space[s] = true
		:: else
		fi;
		/* A garbage rx_ptr wakes everyone, to find -ECONNRESET. */
		assert(VALID(r) || pending[s] == 0);
		s++
	:: else -> break
	od;
#ifdef NOTIFY_FLAG
	want_notify = ANY_PENDING;
#endif
	skip; /* (a jump may not land in a d_step) */
	d_step { /* temporaries cleared: they must not split states */
		r = 0;
		s = 0;
#ifndef BUG_NO_LOCK
		ring_lock = false
#endif
	}
}

/*
 * A wait was stored (ring lock held): set the flag, then look at rx_ptr
 * once more; if the space came meanwhile, wake the sender now.
 */
inline wait_stored(s, rx)
{
#ifdef NOTIFY_FLAG
	want_notify = true;
#ifndef BUG_NO_RECHECK
	rx = rx_ptr;
	if
	:: VALID(rx) && pending[s] <= FREE(rx, tx) ->
		pending[s] = 0;
		want_notify = ANY_PENDING;
		irq_space[s] = true
	:: else
	fi
#endif
#endif
	skip
}

/* The reader's NOTIFY after consuming: with NOTIFY_FLAG only if asked. */
inline notify_consumed(r, s)
{
#ifdef NOTIFY_FLAG
	if
	:: want_notify -> notify(r, s)
	:: else
	fi
#else
	notify(r, s)
#endif
}

proctype Sender(byte s)
{
	byte seq = 0, k, rx, i, slot;

next:
	if
	:: seq == MSGS -> goto finished
	:: else
	fi;
	select(k : HDR_SLOTS .. MAX_MSG_SLOTS);
retry:
	if
	:: skip
	:: /* First a NOTIFY query: does a k-slot message fit now? */
		atomic { !ring_lock -> ring_lock = true };
		rx = rx_ptr; /* read once */
		if
		:: VALID(rx) && FREE(rx, tx) < k * SLOT ->
			pending[s] = k * SLOT; /* not SUFFICIENT: wake me */
			wait_stored(s, rx);
			d_step { rx = 0; ring_lock = false };
			goto wait
		:: else -> /* SUFFICIENT, or a corrupt ring: send */
			d_step { rx = 0; ring_lock = false }
		fi
	fi;
	/* SENDV, by the hypervisor on this sender's vCPU. */
	atomic { !ring_lock -> ring_lock = true };
	rx = rx_ptr; /* read once */
#ifndef BUG_TRUST_RX
	if
	:: !VALID(rx) ->
		d_step { rx = 0; ring_lock = false };
		goto reset /* -ECONNRESET: nothing written */
	:: else
	fi;
#endif
	if
	:: FREE(rx, tx) < k * SLOT ->
		pending[s] = k * SLOT; /* -EAGAIN; a repeat replaces */
		wait_stored(s, rx);
		d_step { rx = 0; ring_lock = false };
		goto wait
	:: else
	fi;
	/* -ECONNRESET means nothing is written: only a valid rx_ptr. */
	assert(VALID(rx));
#ifdef BUG_EARLY_PUBLISH
	tx_ptr = (tx + k * SLOT) % LEN;
#endif
	/* Payload slots first, the header slot last, then tx_ptr. */
	slot = tx / SLOT;
	i = HDR_SLOTS;
	do
	:: i < k ->
#ifndef GARBAGE
		assert(!unread[(slot + i) % NSLOTS]);
#endif
		slot_tag[(slot + i) % NSLOTS] = TAG(s, seq);
		i++
	:: else -> break
	od;
#ifndef GARBAGE
	assert(!unread[slot]);
#else
	skip; /* (a jump may not land in a d_step) */
#endif
	d_step { /* the 16-byte header is one copy */
		slot_tag[slot] = TAG(s, seq);
		slot_len[slot] = k
	};
	tx = (tx + k * SLOT) % LEN;
	assert(VALID(tx));
	d_step { /* publish with release; the ghost marks it unread */
		i = 0;
		do
		:: i < k -> unread[(slot + i) % NSLOTS] = true; i++
		:: else -> break
		od;
		i = 0;
		slot = 0;
		rx = 0;
		tx_ptr = tx
	};
#ifdef STATUS_WORD
	atomic { /* fetch_or: interrupt only if the word was 0 */
		if
		:: word == 0 -> irq = true
		:: else
		fi;
		word = word | W_DATA
	};
#else
	irq_data = true;
#endif
	d_step { ring_lock = false; k = 0; seq++ };
	goto next;
wait:
	waiting[s] = true;
#ifdef GARBAGE
end_wait: /* a hostile reader need never notify */
#endif
	irq_space[s] -> irq_space[s] = false;
	waiting[s] = false;
	goto retry;
reset:
#ifndef GARBAGE
	assert(false); /* only a corrupt rx_ptr gives -ECONNRESET */
#endif
	skip;
finished:
	skip
}

/* Follows docs/hmx-abi.md "Receiving", batching NOTIFY as it allows. */
proctype Reader()
{
	byte rx = 0, t, k, slot, i, tag, r, s;
	byte expect[NSEND];
	bool consumed = false, asleep = false;

	do
	:: delivered == TOTAL -> break
	:: else ->
		t = tx_ptr; /* acquire */
		if
		:: t != rx ->
			slot = rx / SLOT;
			k = slot_len[slot];
			tag = slot_tag[slot];
#ifndef GARBAGE
			assert(k >= HDR_SLOTS && k <= MAX_MSG_SLOTS);
			assert(tag > 0 && SENDER(tag) < NSEND);
			/* every message once, in order per sender */
			assert(tag == TAG(SENDER(tag), expect[SENDER(tag)]));
			i = HDR_SLOTS;
			do
			:: i < k -> assert(slot_tag[(slot + i) % NSLOTS] == tag); i++
			:: else -> break
			od;
			expect[SENDER(tag)]++;
#else
			/* A reader that lied about rx_ptr may see anything. */
			if
			:: k < HDR_SLOTS || k > MAX_MSG_SLOTS -> goto end_corrupt
			:: else
			fi;
#endif
#ifndef GARBAGE
			delivered++; /* (what a liar reads is not counted) */
#endif
#ifdef BUG_NOTIFY_FIRST
			notify(r, s);
#endif
			d_step { /* consumed: release the slots (rx_ptr, release) */
				i = 0;
				do
				:: i < k -> unread[(slot + i) % NSLOTS] = false; i++
				:: else -> break
				od;
				i = 0;
				rx = (rx + k * SLOT) % LEN;
				rx_ptr = rx;
				t = 0;
				k = 0;
				slot = 0;
				tag = 0
			};
			consumed = true;
			if
#ifndef BUG_NOTIFY_FIRST
			:: notify_consumed(r, s); consumed = false
#endif
			:: skip /* keep batching */
			fi
		:: else -> /* empty: notify for the batch, then wait */
			if
			:: consumed ->
#ifndef BUG_NOTIFY_FIRST
				notify_consumed(r, s);
#endif
				consumed = false
			:: else
			fi;
#ifdef STATUS_WORD
			/* The pass ends only if nothing came in during it. */
			atomic {
				t = 0;
#ifndef BUG_STATUS_STORE
				if
				:: word == W_BUSY -> word = 0; asleep = true
				:: else -> word = W_BUSY /* take the bits: again */
				fi
#else
				word = 0;
				asleep = true
#endif
			};
			if
			:: asleep ->
				atomic { irq -> irq = false; asleep = false;
					 word = W_BUSY }
			:: else
			fi
#else
			d_step { irq_data -> irq_data = false; t = 0 }
#endif
		fi
#ifdef GARBAGE
	/*
	 * Any value: every valid offset, the first invalid one, a misaligned
	 * one and the largest (the hypervisor only tells valid from not, and
	 * where a valid one lies relative to its own offset).
	 */
	:: select(r : 0 .. NSLOTS - 1); rx_ptr = r * SLOT
	:: rx_ptr = LEN
	:: rx_ptr = SLOT / 2
	:: rx_ptr = 255
	:: select(r : 0 .. NSLOTS - 1); tx_ptr = r * SLOT
	:: tx_ptr = 255
	:: rx_ptr = rx /* repair */
	:: notify(r, s)
	:: goto end_corrupt /* the reader may stop at any time */
#endif
	od;
#ifdef GARBAGE
end_corrupt:
#endif
	skip
}

init {
	byte s = 0;

	atomic {
		do
		:: s < NSEND -> run Sender(s); s++
		:: else -> break
		od;
		run Reader()
	}
}

ltl no_lost_wakeup { [] (waiting[0] -> <> !waiting[0]) }
ltl all_delivered { <> (delivered == TOTAL) }
