package io.hashidx.store;

import static io.hashidx.store.BucketLayout.EMPTY_ONE;
import static io.hashidx.store.BucketLayout.EMPTY_REST;
import static io.hashidx.store.BucketLayout.EVACUATED_EMPTY;
import static io.hashidx.store.BucketLayout.EVACUATED_X;
import static io.hashidx.store.BucketLayout.EVACUATED_Y;
import static io.hashidx.store.BucketLayout.MIN_TOPHASH;
import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.BucketLayout.SLOTS;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.random.RandomGenerator;

/**
 * The hash table on top of the bucket layout: lookup, insert, overwrite, remove, growth with
 * incremental evacuation, and iteration. Go's runtime/map.go moved onto a mapped file.
 *
 * <h2>Design</h2>
 * A seeded 64-bit hash picks a bucket ({@code floor(hash * buckets / 2^64)}) and a tophash byte. A
 * bucket holds 8 slots and one tophash byte per slot; when all 8 are taken, an overflow page of the
 * same layout is chained on. Eight slots per bucket keep a whole bucket's tophash bytes in one
 * aligned 8-byte word, so a lookup that misses reads one word and usually no key at all.
 *
 * <p>The load factor is 6.5 entries per bucket, Go's choice. Measured on this layout (200,000
 * buckets, 16-byte keys and values, 320-byte pages; overflow pages per bucket, and bytes of bucket
 * and overflow pages per entry), next to the probe counts of Go's table for the same structure:
 * <pre>
 *   load  %overflow  bytes/entry  Go hitprobe  Go missprobe
 *   4.00     2.14        81.7        3.00          4.00
 *   4.50     4.04        74.0        3.25          4.50
 *   5.00     6.79        68.3        3.50          5.00
 *   5.50    10.57        64.3        3.75          5.50
 *   6.00    15.32        61.5        4.00          6.00
 *   6.50    20.92        59.5        4.25          6.50
 * </pre>
 * Past 6.5 the overflow pages (a second cache miss per lookup) grow faster than the space saved.
 *
 * <h2>Growth</h2>
 * When an insert would take the load above 6.5, a bucket array twice as large is reserved and the
 * table enters the growing state: the header records both arrays and how many old buckets have been
 * evacuated. A growth starts only once the file holds the new array and a margin for the overflow
 * pages its evacuation may take ({@link Space#growthEnd}); until then (a large array written in
 * bounded steps, or a full disk) the table takes inserts at a higher load. Every write first evacuates
 * the old bucket it maps to, then helps with one more (see "Writers in parallel"), so growth finishes
 * after about (old buckets) writes. Reads look in the old array for
 * buckets not yet evacuated. Old bucket b splits into new buckets 2b and 2b+1 (multiply-shift keeps
 * that true for any bucket count). {@link #reserve} grows by {@code 2^k} in one step, for a load whose
 * size is known: old bucket b then splits into new buckets {@code b * 2^k .. (b + 1) * 2^k - 1}, since
 * {@code floor(h * n / 2^64) = b} implies {@code b * 2^k <= floor(h * n * 2^k / 2^64) < (b + 1) * 2^k}. Evacuation copies every entry first, publishes each copy with its
 * tophash byte, and only then marks the old slots evacuated-X/Y, ending with slot 0 of the primary
 * bucket, whose mark is what "evacuated" means. A crash in between leaves the old bucket unevacuated;
 * the next evacuation clears its destinations and copies again, so evacuation is idempotent.
 *
 * <h2>Crash order</h2>
 * A new entry is written into a free slot and published by one tophash store (an out-of-line entry's
 * record first, named meanwhile by the lane's pending record so that a crash frees it). An overwrite writes
 * the new slot image into the writer lane's slot of the journal cell, records an intent in its lane,
 * copies it over the slot, and clears the intent; reopening replays an unfinished copy. Inserts and removes also record an intent, so reopen
 * knows whether the operation in flight changed the count.
 *
 * <h2>Writers in parallel</h2>
 * Writers on different buckets run at the same time. Locks, always taken in this order:
 * <ol>
 *   <li>the <b>geometry lock</b> ({@link #geo}), shared by every writer; exclusive for what changes the
 *       geometry (starting and ending a growth) or must see no writer in flight (close, sync, verify,
 *       inspect, finishing a growth). Under it, the header's geometry fields do not change.
 *   <li>the <b>stripes</b>: {@link #STRIPES} locks over equal ranges of the hash space. A writer of
 *       a key locks the stripes its bucket's hash range covers (one or two in a large table, all in a
 *       one-bucket table), in ascending order; while growing, those of its <em>old</em> bucket, which
 *       covers both destinations. Buckets nest across doublings (multiply-shift: bucket b of n holds
 *       the hashes of buckets 2b and 2b+1 of 2n), so any two writers of one chain share a stripe, in
 *       any geometry, and an iterator or a reader that locks a bucket's range excludes its writers.
 *   <li>a <b>lane</b> (FORMAT.md section 4), one of 8: a writer in flight holds one, which keeps its
 *       intent record, its share of the count, the buckets it makes odd, its journal slot and, in a
 *       variable-length file, its pending record. Lanes are taken after stripes and given back before
 *       other stripes are taken.
 *   <li>the <b>space lock</b> (the {@link Space} object): the free list, the header's space fields,
 *       the evacuation mark and every header update, one at a time. The chain record (one per file)
 *       stays sound because a chain change happens whole under it: taking a record cell (op 3), and
 *       freeing a record, which an overwrite or remove of an out-of-line entry announces (op 4) before
 *       its slot stops naming the record and frees after, holding the space lock from one to the other.
 *       Such a writer takes the space lock before it makes its bucket's version odd, so a reader never
 *       finds the version odd while the writer waits for the space lock (which another writer may hold
 *       while it extends the file).
 * </ol>
 * <b>Cooperative growth.</b> A writer evacuates its key's old bucket (under its own stripes), then
 * helps with one more: a shared cursor hands each old bucket to one helper, and when all are handed
 * out, helpers take the bucket at the evacuation mark. Whoever evacuates the bucket at the mark moves
 * the mark past it and past the buckets evacuated already (under the space lock), so the mark in the
 * header stays a lower bound however evacuations interleave: it only passes buckets whose slot 0 is
 * marked, and that mark is written last. When it reaches the end, the growth is ended by the next
 * writer to see that, under the exclusive geometry lock (retiring the old array, publishing the
 * geometry, advancing the epoch); until then the header keeps the mark one below the end. A growth
 * starts the same way: an insert that finds the table due for one lets go of its locks and starts it
 * exclusively, then retries.
 *
 * <p><b>Crashes with several writers in flight.</b> Each writer's operation is in its own lane: its
 * intent record, its count (the file's count is the base count plus every lane's, so each lane's
 * count is replayed exactly from its own record) and the buckets it made odd. Overwrites stage their
 * image in the lane's journal slot. Chain changes and header updates are serialised by the space lock,
 * so the one chain record and the two header copies work as with one writer. Evacuations stay
 * idempotent. So a kill with several writers in flight replays each lane as it would the one writer.
 *
 * <h2>Lock-free reads</h2>
 * Lookups take no lock and write no shared memory. Each primary bucket (a bucket of the current array,
 * or of the old array while growing) carries a <em>version</em> in its reserved word: a sequence lock
 * over its whole chain, odd while a writer is inside ({@link BucketLayout#enterBucket}). A reader reads
 * the version, the chain and the value, then the version again, and reads again when it changed or was
 * odd. What makes that sound, hazard by hazard:
 * <ul>
 *   <li><b>Where versions live.</b> Only primary buckets have one; it covers every page of the chain,
 *       since every store to a chain happens with the primary's version odd. Overflow pages keep zero
 *       there. But cells leave the structure: a retired array's reserved words become retired-array
 *       links, freed cells carry free-run links in that word, and reused cells are zeroed. A reader
 *       that still reads such a cell as a bucket could see a stable, even "version" over garbage. The
 *       <em>reuse epoch</em> (a word of the live area, {@link Header#EPOCH_OFFSET}) closes that: it
 *       advances whenever the set of primary buckets changes (growth start, growth end) and before a
 *       retired array's cells are freed, and a read is valid only if the epoch is the same at its end.
 *   <li><b>Geometry.</b> Bucket counts and arrays are read from one immutable {@link Geometry},
 *       published through a volatile field before the epoch advances, so a reader never mixes the
 *       old array of one growth with the new array of another. The read path is a function of the
 *       mapped bytes and that snapshot: a reader in another process can build the snapshot from a
 *       header it re-reads when the epoch changes.
 *   <li><b>Garbage while reading.</b> A chain that changes under a reader can show a length beyond the
 *       width, a link outside the file or a cycle (CORRUPT), or a cell of a chunk not mapped yet. Such
 *       an exception is a retry when the read does not validate, and stays an error when it does.
 *       <b>Records</b> (out-of-line entries of a variable-length file) are read inside the same
 *       validated read: a record is freed only while the version of the bucket whose slot named it is
 *       odd, so a reader that followed a slot to a record freed (and perhaps reused) meanwhile fails its
 *       validation; a bad record cell, a link outside the file or a record shorter than its lengths is
 *       garbage like the rest. An iterator never follows an evacuated slot to its record (it may be
 *       freed since the entry moved on): it finds the entry by the 64-bit hash the slot keeps.
 *   <li><b>Mappings.</b> {@link MappedFile} publishes its chunk array whole and keeps a replaced mapping
 *       of the last chunk until close, so a reader holding it reads valid bytes. When the index is
 *       closed under a reader, the reader's access fails (an unmapped chunk, or the JDK's closed-arena
 *       check, never a fault) and the reader reports CLOSED.
 *   <li><b>Bounded retries.</b> After {@link #OPTIMISTIC_ATTEMPTS} failed attempts (the first spin,
 *       the rest yield) a reader takes the stripes of its bucket and reads once under them, so a reader
 *       never spins forever. An odd version seen under that lock has no writer behind it: a writer of
 *       another process was killed inside. Its lane names the bucket (FORMAT.md section 4), the next
 *       read-write open makes exactly those versions even again, a read-only open tells its readers not
 *       to wait for them, and in the meantime a reader gets CORRUPT naming the bucket, not a hang.
 *       A read-only open remembers each such bucket with the odd value it found and reads past that
 *       value only: a writer that opens the file later repairs it without changing the header (the
 *       reader's view stays current), and any other odd value is that writer inside the bucket.
 *   <li><b>Journal images.</b> A read-only open after a crash in an overwrite reads that slot's value
 *       from the lane's journal slot. A writer that opens the file later replays the overwrite and stores
 *       the header before its own overwrites reuse the journal, so a read that took a value from an image
 *       also validates that the header's generation word is still its view's.
 * </ul>
 */
final class Table {
    /** Evacuations that close() performs at most before leaving the rest for later. */
    static final long CLOSE_EVACUATION_BOUND = 1 << 16;
    /** Lookups that found their bucket's version odd (a live writer inside) and tried again; tests wait on it. */
    final java.util.concurrent.atomic.LongAdder oddVersionRetries = new java.util.concurrent.atomic.LongAdder();
    /** Optimistic read attempts before a reader waits for the writers instead (see {@link #lookup}). */
    static final int OPTIMISTIC_ATTEMPTS = 64;
    /** Attempts that only spin before a reader starts yielding its core to the writer it waits for. */
    private static final int SPIN_ATTEMPTS = 8;

    /**
     * Which cells are primary buckets: the current array and, while growing, the old one. Immutable and
     * published whole through {@link #geometry}, so a lock-free reader sees one consistent picture; the
     * reuse epoch tells it when the picture it read is no longer the one in force.
     */
    record Geometry(long bucketCount, long bucketsCell, long oldBucketCount, long oldBucketsCell) {
        boolean growing() {
            return oldBucketCount != 0;
        }

        /** While growing: the old bucket whose entries go to new bucket {@code bucket} (a growth by 2^k). */
        long oldIndexOf(long bucket) {
            return bucket >>> Long.numberOfTrailingZeros(bucketCount / oldBucketCount);
        }

        static Geometry of(Header h) {
            return new Geometry(h.bucketCount, h.bucketsCell, h.oldBucketCount, h.oldBucketsCell);
        }
    }

    final Header h;
    final BucketLayout layout;
    final MappedFile file;
    final Space space;
    /** The record writer of a variable-length file; null in a fixed-width one. */
    private final Records records;
    private final MemorySegment page;
    private final boolean writable;
    /**
     * For a read-only open after a crash in the middle of overwrites: those slots' values are in the
     * journal, at the slot references in {@link #pendingImages}.
     */
    private long[] pendingRefs = new long[0];
    private long[] pendingImages = new long[0];
    /**
     * For a read-only open after a crash: primary buckets whose versions a killed writer left odd (its
     * lane names them), as pairs: the cell, then the odd version found. Readers do not wait for that
     * version to become even; any other odd version of the cell is a live writer's (a read-write open
     * made the dead one even, and the versions only grow), which they wait for as always.
     */
    private long[] deadOdd = new long[0];
    /**
     * The geometry lock. Writers, iteration steps and readers that gave up on optimistic reads take it
     * shared; whatever changes the geometry or must see no writer in flight (growth start and end,
     * close, sync, verify, inspect) takes it exclusively. Lookups take no lock at all.
     */
    final ReentrantReadWriteLock geo = new ReentrantReadWriteLock();
    /** Lock stripes over the hash space (see {@link #STRIPES}); a writer holds those of its bucket. */
    private final java.util.concurrent.locks.ReentrantLock[] stripes = new java.util.concurrent.locks.ReentrantLock[STRIPES];
    private final Lane[] lanes = new Lane[Header.LANES];
    /** The geometry in force; see {@link Geometry}. */
    private volatile Geometry geometry;
    /** The entry count (the live area's base count plus every lane's share). */
    private final java.util.concurrent.atomic.LongAdder liveEntries = new java.util.concurrent.atomic.LongAdder();
    /** Writes started, and those that found lane 0 taken (another writer in flight): for tests. */
    final java.util.concurrent.atomic.LongAdder writes = new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder overlappingWrites = new java.util.concurrent.atomic.LongAdder();
    private volatile boolean closed;
    /** Every old bucket is evacuated; the growth ends at the next exclusive moment. Guarded by the space lock. */
    private volatile boolean growthEndPending;
    /** The next old bucket a writer helps to evacuate (see {@link #helpGrowth}). */
    private final java.util.concurrent.atomic.AtomicLong helpCursor = new java.util.concurrent.atomic.AtomicLong();
    /**
     * Old buckets evacuated in the growth under way, above the mark too; -1 until first asked for after
     * an open (then counted once), so opening stays free of scans.
     */
    private volatile long evacuatedCount = -1;
    /** The entries the last {@link #reserve} made room for, in this process (not recorded in the file). */
    private long reservedFor;
    /** A read-only table's slot in the reader table, or -1 (a writer, or no reader table: no writer can come). */
    private final int readerSlot;
    /** A read-only table: what its geometry was read at (see {@link #stale()}). */
    private volatile ReaderView view;
    /** Whether opening read-write replayed an interrupted overwrite (the header is then stored). */
    private boolean replayedOverwrite;

    /**
     * Signals that a read-only table's view of the file is older than what a writer process left in
     * it: the read is repeated after {@link #refresh()}. Thrown without a stack trace.
     */
    static final class Stale extends RuntimeException {
        static final Stale INSTANCE = new Stale();

        private Stale() {
            super("the header changed", null, false, false);
        }
    }

    Table(Header h, MappedFile file) {
        this.h = h;
        this.file = file;
        this.page = file.header();
        this.writable = file.writable();
        this.layout = new BucketLayout(h.keyWidth, h.valueWidth, file, h);
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new java.util.concurrent.locks.ReentrantLock();
        }
        for (int i = 0; i < Header.LANES; i++) {
            lanes[i] = new Lane(i, h.keyWidth);
        }
        h.countSource = this::count;
        file.ensureMapped(layout.endOfCells(h.allocatedCells));
        this.space = new Space(h, layout, file);
        this.records = h.variable() ? new Records(layout, space, page) : null;
        recover();
        this.geometry = Geometry.of(h);
        ReaderTable readers = writable ? null : file.readers();
        if (readers != null) {
            // pin what this header shows, then read the header again: whatever that second read shows was
            // not freed before the pin was visible (FORMAT.md section 11)
            readerSlot = readers.claim();
            readers.pin(readerSlot, h.oldestReadable());
            refresh();
        } else {
            readerSlot = -1;
            view = new ReaderView(geometry, Header.epoch(page), Header.generationWord(page));
        }
    }

    long count() {
        if (writable || file.readers() == null) {
            return liveEntries.sum(); // nobody else writes: counted when opened, then by this process's writers
        }
        // beside a writer process: the live area now. While no writer is at work (perhaps one died in
        // an operation), its intent records tell the outcome; a live writer's count is exact before the
        // operation it has in flight.
        FileLocks.Handle handle = file.handle();
        if (handle.holdWritersOut()) {
            try {
                return countFromLiveArea(true);
            } finally {
                handle.letWritersIn();
            }
        }
        return countFromLiveArea(false);
    }

    /** The entry count in the live area: base count plus every lane's share, replaying intents when {@code settle}. */
    private long countFromLiveArea(boolean settle) {
        long total = Header.liveCount(page);
        long op = Header.intentOp(page);
        if (settle && op != Header.INTENT_NONE) {
            total = settledCount(op, Header.intentSlot(page), Header.intentCountBefore(page), total);
        }
        for (int lane = 0; lane < Header.LANES; lane++) {
            long n = Header.laneCount(page, lane);
            long laneOp = Header.laneOp(page, lane);
            if (settle && laneOp != Header.INTENT_NONE) {
                n = settledCount(laneOp, Header.laneSlot(page, lane), Header.laneCountBefore(page, lane), n);
            }
            total += n;
        }
        return total;
    }

    private long settledCount(long op, long ref, long before, long otherwise) {
        if (ref < 0 || ref / SLOTS >= h.allocatedCells || op < Header.INTENT_INSERT || op > Header.INTENT_REMOVE) {
            return otherwise;
        }
        return Header.countAfterIntent(op, before, layout.tophash(ref / SLOTS, (int) (ref % SLOTS)) >= MIN_TOPHASH);
    }

    Geometry geometry() {
        return geometry;
    }

    private void setCount(long n) {
        h.count = n;
        liveEntries.reset();
        liveEntries.add(n);
    }

    // ---------------------------------------------------------------- following a writer process

    /**
     * A read-only table's geometry with what it was read at: the reuse epoch (read before the header)
     * and copy A's generation word. A read is valid only under the epoch its geometry was read at: in
     * this process nobody publishes a new geometry before the epoch moves, as the writer does for its own
     * readers, so a read that finds another epoch at its start reads the header again first.
     */
    private record ReaderView(Geometry geometry, long epoch, long generationWord) {
    }

    /** Whether a writer process changed the header or the set of primary buckets since this read-only table read them. */
    boolean stale() {
        if (writable) {
            return false;
        }
        ReaderView v = view;
        return Header.epoch(page) != v.epoch() || Header.generationWord(page) != v.generationWord();
    }

    /**
     * Read-only: reads the header again (the newest consistent copy), maps what the file has grown by,
     * re-reads the intent records (only while no writer is at work: a live writer's are its operations in
     * flight), publishes the new geometry and moves this process's pin in the reader table up to the
     * oldest array it may still read: the one its header shows, or one an open iterator started on.
     * Callers hold the writers' lock, which in a read-only table only refreshes take exclusively.
     */
    void refresh() {
        long epoch = Header.epoch(page);
        long word = Header.generationWord(page);
        Header fresh = Header.loadConsistent(page, file.path());
        h.adopt(fresh);
        file.refreshSize();
        if (layout.endOfCells(h.allocatedCells) > file.size()) {
            throw HashIndexException.corrupt(file.path(), file.size(), "truncated: the file is " + file.size()
                    + " bytes but its header describes " + layout.endOfCells(h.allocatedCells) + " bytes");
        }
        file.ensureMapped(layout.endOfCells(h.allocatedCells));
        recover();
        geometry = Geometry.of(h);
        view = new ReaderView(geometry, epoch, word);
        evacuatedCount = -1;
        movePin();
    }

    /**
     * Read-only: reads the header again when a writer process changed it (or always, with {@code force}).
     * Under the read lock (an iterator's step) it cannot: when the header changed it throws {@link Stale},
     * and the caller refreshes and repeats the step; a forced read of an unchanged header is skipped.
     */
    private void ensureFresh(boolean force) {
        if (!force && !stale()) {
            return;
        }
        if (geo.getReadHoldCount() > 0) {
            if (stale()) {
                throw Stale.INSTANCE;
            }
            return;
        }
        geo.writeLock().lock();
        try {
            if (file.isClosed()) {
                throw HashIndexException.closed(file.path());
            }
            if (force || stale()) {
                refresh();
            }
        } finally {
            geo.writeLock().unlock();
        }
    }

    /**
     * Moves this reader's pin up to the oldest array it may still read: what its header shows, or an
     * older one that an open iterator started on. Only ever up (what the header shows was read while the
     * older pin was visible). A lookup of this process that still reads with the geometry before is
     * covered by the reuse epoch: the writer advances it before it frees an array.
     */
    private synchronized void movePin() {
        if (readerSlot >= 0) {
            file.readers().pin(readerSlot, Math.min(h.oldestReadable(), space.oldestCursorGrowth()));
        }
    }

    /** Closing a read-only table: its slot in the reader table is freed. */
    private void leaveReaderTable() {
        if (readerSlot >= 0) {
            file.readers().release(readerSlot);
        }
    }

    // ---------------------------------------------------------------- open-time recovery

    /**
     * Replays what a crash cut short; bounded work, no scan. First the version-1 intent record (a file
     * last written by version 1), then every writer lane: its operation in flight (the count and an
     * interrupted overwrite, as FORMAT.md section 6 says for the one writer of version 1), and the
     * primary buckets it named whose versions are still odd, which become even (read-only: readers are
     * told not to wait for them). Read-only beside a live writer process, the intent records and the
     * chain record are that writer's operations in flight, not a crash's: they are read only while
     * writers are held out.
     */
    private void recover() {
        FileLocks.Handle handle = file.handle();
        boolean beside = !writable && file.readers() != null;
        if (beside) {
            pendingRefs = new long[0];
            pendingImages = new long[0];
            deadOdd = new long[0];
            if (!handle.holdWritersOut()) {
                space.opened();
                return;
            }
        }
        try {
            recoverRecords();
        } finally {
            if (beside) {
                handle.letWritersIn();
            }
        }
    }

    private void recoverRecords() {
        long op = Header.intentOp(page);
        long count = Header.liveCount(page);
        if (op != Header.INTENT_NONE) {
            long ref = Header.intentSlot(page);
            long before = Header.intentCountBefore(page);
            checkIntent(ref, op, Header.INTENT_OP_OFFSET);
            long cell = ref / SLOTS;
            int slot = (int) (ref % SLOTS);
            count = Header.countAfterIntent(op, before, layout.tophash(cell, slot) >= MIN_TOPHASH);
            if (op == Header.INTENT_OVERWRITE) {
                replayOverwrite(ref, 0);
            }
            if (writable) {
                Header.setLiveCount(page, count);
                VarHandle.storeStoreFence();
                Header.endIntent(page);
            }
        }
        long total = count;
        long[] laneCounts = new long[Header.LANES];
        for (int lane = 0; lane < Header.LANES; lane++) {
            laneCounts[lane] = recoverLane(lane);
            total += laneCounts[lane];
        }
        setCount(total);
        if (!writable) {
            space.forgetRecordsLeftToFree(); // a reader process recovers again at every refresh
        }
        // after the lanes' overwrites are replayed: a record freed by the operation in flight (op 4) is
        // judged by the slot as the replay left it
        boolean chainChanged = space.recoverChainChange(writable, this::slotNamesRecord);
        if (h.variable()) {
            for (int lane = 0; lane < Header.LANES; lane++) {
                recoverPendingRecord(lane);
            }
        }
        // the intents are cleared last, so a crash while opening leaves the same work to the next open
        for (int lane = 0; lane < Header.LANES; lane++) {
            if (writable && Header.laneOp(page, lane) != Header.INTENT_NONE) {
                Header.setLaneCount(page, lane, laneCounts[lane]);
                Header.endLaneIntent(page, lane);
            }
        }
        if (writable) {
            // a fixed-width file is version 2 (a version-1 file is upgraded), a variable-length one version 3
            int version = h.variable() ? Header.VARIABLE_FORMAT_VERSION : Header.FIXED_FORMAT_VERSION;
            boolean upgrade = h.readVersion < version || h.writeVersion < version;
            h.readVersion = Math.max(h.readVersion, version);
            h.writeVersion = Math.max(h.writeVersion, version);
            space.releaseRetired(true);
            // an overwrite replayed: reader processes that read its slot from the journal must stop
            // (the next overwrite reuses the journal), so the generation they watch moves on
            if (upgrade || replayedOverwrite || chainChanged || !h.copyA().valid() || !h.copyB().valid()
                    || h.copyA().generation() != h.copyB().generation()) {
                h.store(page);
            }
        }
        space.opened();
    }

    /** Replays one lane; returns its share of the entry count. */
    private long recoverLane(int lane) {
        long op = Header.laneOp(page, lane);
        long count = Header.laneCount(page, lane);
        if (op != Header.INTENT_NONE) {
            long ref = Header.laneSlot(page, lane);
            checkIntent(ref, op, Header.laneOffset(lane));
            count = Header.countAfterIntent(op, Header.laneCountBefore(page, lane),
                    layout.tophash(ref / SLOTS, (int) (ref % SLOTS)) >= MIN_TOPHASH);
            if (op == Header.INTENT_OVERWRITE) {
                replayOverwrite(ref, lane);
            }
        }
        for (int k = 0; k < Header.LANE_BUCKET_WORDS; k++) {
            long cell = Header.laneBucket(page, lane, k);
            // a name left from an operation that finished is harmless: that version is even by now
            if (cell != NONE && isPrimary(cell)) {
                repairVersion(cell);
                if (h.growing() && cell >= h.oldBucketsCell && cell - h.oldBucketsCell < h.oldBucketCount) {
                    // an evacuation enters every destination of its old bucket (a growth by 2^k has 2^k)
                    int shift = h.growthShift();
                    long first = h.bucketsCell + ((cell - h.oldBucketsCell) << shift);
                    for (long c = first; c < first + (1L << shift); c++) {
                        repairVersion(c);
                    }
                }
            }
        }
        if (writable) {
            Header.nameLaneBuckets(page, lane, NONE, NONE, NONE);
        }
        return count;
    }

    /**
     * A variable-length file: the record that lane {@code lane}'s write in flight was writing when the
     * crash came (its pending record) is kept when the slot of the lane's intent names it (after the
     * replay; a read-only open reads an interrupted overwrite's slot from the journal), and freed
     * otherwise: announced (op 4), unnamed, then freed in one header update, so a crash while opening
     * leaves the same work to the next open. A record that the chain record's op 4 already freed (a
     * write that was discarding its own record) is not freed twice: read-write, that recovery cleared
     * the lane's pending record before the free (so a crash after it cannot leave the name behind);
     * read-only, it is skipped here.
     */
    private void recoverPendingRecord(int lane) {
        long pending = Header.pendingRecord(page, lane);
        if (pending == NONE) {
            return;
        }
        if (pending < 0 || pending >= h.allocatedCells) {
            throw HashIndexException.corrupt(file.path(), Header.laneOffset(lane) + Header.LANE_PENDING_RECORD,
                    "writer lane " + lane + " names pending record cell " + pending + ", outside the "
                            + h.allocatedCells + " allocated cells");
        }
        if (pending == space.recordFreedByRecovery()) {
            if (writable) {
                Header.setPendingRecord(page, lane, NONE);
            }
            return;
        }
        long op = Header.laneOp(page, lane);
        boolean named = (op == Header.INTENT_INSERT || op == Header.INTENT_OVERWRITE)
                && slotOrImageNamesRecord(Header.laneSlot(page, lane), pending);
        if (named) {
            if (writable) {
                Header.setPendingRecord(page, lane, NONE);
            }
            return;
        }
        long cells = layout.recordLength(pending);
        if (!writable) {
            space.recordLeftToFree(pending, cells);
            return;
        }
        synchronized (space) {
            space.announceRecordFree(pending, NONE);
            VarHandle.storeStoreFence();
            Header.setPendingRecord(page, lane, NONE);
            VarHandle.storeStoreFence();
            space.freeRecord(pending, cells);
        }
    }

    /**
     * Whether slot {@code ref} ({@code cell * 8 + slot}, NONE: none) is live and names the record at
     * {@code record}; for a slot whose overwrite a read-only open reads from the journal, the journal's image.
     */
    private boolean slotNamesRecord(long ref, long record) {
        if (ref < 0 || ref / SLOTS >= h.allocatedCells) {
            return false;
        }
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        return layout.tophash(cell, slot) >= MIN_TOPHASH && layout.outOfLine(cell, slot)
                && layout.recordOf(cell, slot) == record;
    }

    /** Whether slot {@code ref} or, read-only, the journal image it is read from names {@code record}. */
    private boolean slotOrImageNamesRecord(long ref, long record) {
        if (slotNamesRecord(ref, record)) {
            return true;
        }
        long image = ref < 0 ? NONE : valueRef(ref);
        if (image == ref || ref / SLOTS >= h.allocatedCells || layout.tophash(ref / SLOTS, (int) (ref % SLOTS)) < MIN_TOPHASH) {
            return false;
        }
        long imageCell = image / SLOTS;
        int imageSlot = (int) (image % SLOTS);
        return layout.outOfLine(imageCell, imageSlot) && layout.recordOf(imageCell, imageSlot) == record;
    }

    /** A read-only open after a crash: the slots whose interrupted overwrites it reads from the journal. */
    long[] pendingOverwriteRefs() {
        return pendingRefs.clone();
    }

    /** The journal images ({@code cell * 8 + slot}) of {@link #pendingOverwriteRefs}, in the same order. */
    long[] pendingOverwriteImages() {
        return pendingImages.clone();
    }

    /** A version a killed writer left odd becomes even (read-only: readers are told not to wait for it). */
    private void repairVersion(long cell) {
        if ((layout.version(cell) & 1) != 0) {
            if (writable) {
                layout.setVersion(cell, layout.version(cell) + 1);
            } else if (!deadOdd(cell, layout.version(cell))) {
                deadOdd = append(append(deadOdd, cell), layout.version(cell));
            }
        }
    }

    private void checkIntent(long ref, long op, long offset) {
        if (ref < 0 || ref / SLOTS >= h.allocatedCells || op < Header.INTENT_INSERT || op > Header.INTENT_REMOVE) {
            throw HashIndexException.corrupt(file.path(), offset,
                    "intent record names slot " + ref + " outside the file or an unknown operation " + op);
        }
    }

    /** An overwrite cut short: its new image is in journal slot {@code journalSlot}. */
    private void replayOverwrite(long ref, int journalSlot) {
        if (writable) {
            replayedOverwrite = true;
            layout.copySlot(h.journalCell, journalSlot, ref / SLOTS, (int) (ref % SLOTS));
        } else {
            pendingRefs = append(pendingRefs, ref);
            pendingImages = append(pendingImages, h.journalCell * SLOTS + journalSlot);
        }
    }

    private static long[] append(long[] a, long v) {
        long[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = v;
        return b;
    }

    /**
     * A copied slot of a read-only iterator: its key, and its value (null for an entry marked evacuated);
     * an out-of-line entry marked evacuated has neither (its record may have been freed since it moved
     * on), only the hash its slot keeps, by which it is looked up.
     */
    private record SlotCopy(byte[] key, byte[] value, long hash) {
    }

    private static boolean isPrimaryIn(Geometry g, long cell) {
        return (cell >= g.bucketsCell() && cell - g.bucketsCell() < g.bucketCount())
                || (g.growing() && cell >= g.oldBucketsCell() && cell - g.oldBucketsCell() < g.oldBucketCount());
    }

    private boolean isPrimary(long cell) {
        return (cell >= h.bucketsCell && cell - h.bucketsCell < h.bucketCount)
                || (h.growing() && cell >= h.oldBucketsCell && cell - h.oldBucketsCell < h.oldBucketCount);
    }

    // ---------------------------------------------------------------- lock-free lookup

    /** What a lookup does with the slot it found (NONE when the key is absent), inside the optimistic read. */
    interface ValueReader<R> {
        R read(Table t, long ref, byte[] dest);
    }

    private static final Object RETRY = new Object();

    /**
     * Looks {@code key} up without taking a lock or writing shared memory (a sequence-lock read, see
     * the class comment): reads the reuse epoch, the geometry, the version of the one primary bucket
     * that holds the key (the old bucket while it is not evacuated, else the current one), searches its
     * chain and lets {@code reader} copy what it needs, then re-reads the version and the epoch; a
     * change, or an odd version (a writer inside), means try again. After {@link #OPTIMISTIC_ATTEMPTS}
     * attempts it reads under the stripes of its bucket, so a reader never spins without bound.
     */
    <R> R lookup(byte[] key, byte[] dest, ValueReader<R> reader) {
        return lookup(Hashing.hash(key, h.seed), key, dest, reader);
    }

    /**
     * The lookup of the entry whose key has the 64-bit hash {@code hash} (an iterator's way to find an
     * out-of-line entry that moved on, without reading the record its old slot names, which may have been
     * freed since): {@code reader} gets the slot and reads the key from it, inside the validated read.
     * Two keys with the same 64-bit hash in one bucket chain are told apart by nothing here: the first wins.
     */
    <R> R lookupByHash(long hash, ValueReader<R> reader) {
        return lookup(hash, null, null, reader);
    }

    /** A lookup of {@code key} (or, when null, of the entry whose key hashes to {@code hash}). */
    private <R> R lookup(long hash, byte[] key, byte[] dest, ValueReader<R> reader) {
        int top = Hashing.tophash(hash);
        if (!writable) {
            return lookupBesideWriter(hash, top, key, dest, reader);
        }
        for (int attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
            if (attempt > 0) {
                backOff(attempt);
            }
            Object r = attempt(hash, top, key, dest, reader);
            if (r != RETRY) {
                @SuppressWarnings("unchecked")
                R result = (R) r;
                return result;
            }
        }
        return lockedLookup(hash, top, key, dest, reader);
    }

    /**
     * A read-only table's lookup: the same optimistic read, with the geometry read from the header
     * (again when a writer process changed it). There is no lock to fall back on (the writer is another
     * process), so it retries until a read validates, reading the header again after a few failures (a
     * link to a cell this view does not know yet fails until then). A version that stays odd belongs to
     * a writer that is slow or dead: once no writer holds the file, reading the header again replays the
     * dead writer's lanes and the read goes on. A validated read that fails twice on an unchanged header
     * is the file's error.
     */
    private <R> R lookupBesideWriter(long hash, int top, byte[] key, byte[] dest, ValueReader<R> reader) {
        long failedAt = Long.MIN_VALUE;
        for (int attempt = 0; ; attempt++) {
            ensureFresh(attempt >= 2 && attempt % 4 == 2);
            if (attempt > 0) {
                backOff(Math.min(attempt, OPTIMISTIC_ATTEMPTS));
            }
            Object r;
            try {
                r = attempt(hash, top, key, dest, reader);
            } catch (HashIndexException.FileFormat e) {
                long generation = h.generation;
                if (failedAt == generation && !stale()) {
                    throw e;
                }
                failedAt = generation;
                ensureFresh(true);
                continue;
            }
            if (r != RETRY) {
                @SuppressWarnings("unchecked")
                R result = (R) r;
                return result;
            }
            if (attempt >= STUCK_ATTEMPTS && attempt % OPTIMISTIC_ATTEMPTS == 0) {
                Object still = lookupHoldingWritersOut(hash, top, key, dest, reader);
                if (still != RETRY) {
                    @SuppressWarnings("unchecked")
                    R result = (R) still;
                    return result;
                }
            }
        }
    }

    /** Attempts after which a read-only lookup that never validates asks whether a writer is still at work. */
    private static final int STUCK_ATTEMPTS = OPTIMISTIC_ATTEMPTS;

    /**
     * A lookup that has failed to validate for long: when no writer holds the file now, nothing can
     * change while this process keeps writers out, so one read after reading the header again is
     * stable (as a writer process's own readers fall back on its lock): a version still odd then is one
     * that no dead writer's lane explains, which {@link #find} reports as CORRUPT, and other damage
     * fails as it would in any read. RETRY while a writer is at work: it will leave the bucket.
     */
    private Object lookupHoldingWritersOut(long hash, int top, byte[] key, byte[] dest, ValueReader<?> reader) {
        FileLocks.Handle handle = file.handle();
        if (geo.getReadHoldCount() > 0) {
            // an iterator's step: the header cannot be read again here, so a changed one means Stale
            if (!handle.holdWritersOut()) {
                return RETRY;
            }
            try {
                if (stale()) {
                    throw Stale.INSTANCE;
                }
                return reader.read(this, find(hash, top, key), dest);
            } finally {
                handle.letWritersIn();
            }
        }
        geo.writeLock().lock();
        try {
            if (file.isClosed()) {
                throw HashIndexException.closed(file.path());
            }
            if (!handle.holdWritersOut()) {
                return RETRY;
            }
            try {
                refresh();
                return reader.read(this, find(hash, top, key), dest);
            } finally {
                handle.letWritersIn();
            }
        } finally {
            geo.writeLock().unlock();
        }
    }

    /** Reads the slot's key and value (inside the validated read); null when absent. */
    private static final ValueReader<Map.Entry<byte[], byte[]>> ENTRY = (t, ref, dest) -> ref < 0 ? null
            : new AbstractMap.SimpleImmutableEntry<>(t.layout.key(ref / SLOTS, (int) (ref % SLOTS)), t.value(ref));

    /** A read-only table's value of {@code key} as a validated lookup finds it, or null. */
    byte[] lookupValue(byte[] key) {
        return lookup(key, null, (t, ref, dest) -> ref < 0 ? null : t.value(ref));
    }

    private static void backOff(int attempt) {
        if (attempt < SPIN_ATTEMPTS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /** One optimistic attempt: the result, or RETRY when what it read may be torn or stale. */
    private Object attempt(long hash, int top, byte[] key, byte[] dest, ValueReader<?> reader) {
        long primary = NONE;
        long version = 0;
        long epoch = 0;
        // read before the journal images valueRef may take (refresh publishes its images before its view)
        ReaderView seen = writable ? null : view;
        boolean image = false;
        try {
            epoch = Header.epoch(page);
            Geometry g = geometryFor(epoch);
            if (g == null) {
                return RETRY; // the primary buckets changed since this view was read: read the header again
            }
            boolean oldBucket = false;
            if (g.growing()) {
                long old = g.oldBucketsCell() + Hashing.bucketIndex(hash, g.oldBucketCount());
                long v = layout.version(old);
                // an evacuated mark is final for the growth, so it needs no validation of its own
                if (!isEvacuated(old)) {
                    primary = old;
                    version = v;
                    oldBucket = true;
                }
            }
            if (primary == NONE) {
                primary = g.bucketsCell() + Hashing.bucketIndex(hash, g.bucketCount());
                version = layout.version(primary);
            }
            if ((version & 1) != 0 && !deadOdd(primary, version)) {
                oddVersionRetries.increment();
                return RETRY; // a writer is inside
            }
            long found = findIn(primary, hash, top, key, oldBucket);
            long ref = valueRef(found);
            image = ref != found;
            Object r = reader.read(this, ref, dest);
            return unchanged(primary, version, epoch) && (!image || imagesCurrent(seen)) ? r : RETRY;
        } catch (HashIndexException.FileFormat | IllegalStateException | IndexOutOfBoundsException e) {
            // garbage read from a chain that changed under us (a bad length or link, a chunk not yet
            // mapped) is a retry when the read does not validate, and an error when it does
            if (file.isClosed()) {
                throw HashIndexException.closed(file.path());
            }
            if (primary == NONE || !unchanged(primary, version, epoch) || (image && !imagesCurrent(seen))) {
                return RETRY;
            }
            if (e instanceof HashIndexException) {
                throw e;
            }
            return RETRY;
        }
    }

    /**
     * Read-only: whether a value read from a journal image ({@link #pendingImages}, an overwrite a dead
     * writer left half done) under view {@code v} may stand, read after the version and epoch checks: no
     * writer process stored the header since {@code v} was read. A writer that opens the file replays
     * that overwrite and stores the header before any overwrite of its own reuses the journal slot, so a
     * reader that took the image as the slot's value must not take what the slot holds by then (another
     * key's value); it reads the header again and finds the value in the slot, where the replay put it.
     */
    private boolean imagesCurrent(ReaderView v) {
        return Header.generationWord(page) == v.generationWord();
    }

    /**
     * The geometry that goes with reuse epoch {@code epoch}. In the writer's process, the published
     * snapshot: it is published before the epoch advances, so it is at least as new as {@code epoch}, and
     * a snapshot newer than the epoch read fails the epoch check at the end. A read-only table beside a
     * writer process: the geometry of its view when the view was read at {@code epoch}, else null (the
     * primary buckets changed since: the caller reads the header again).
     */
    Geometry geometryFor(long epoch) {
        if (writable) {
            return geometry;
        }
        ReaderView v = view;
        return v.epoch() == epoch ? v.geometry() : null;
    }

    private boolean unchanged(long primary, long version, long epoch) {
        return layout.versionAfterReads(primary) == version && Header.epochAfterReads(page) == epoch;
    }

    /**
     * Whether a read-only open found that a killed writer's lane names {@code cell} with the odd version
     * {@code version}: the version a dead writer left, not one that a writer since (which made the dead
     * one even when it opened the file) set while it is inside the bucket.
     */
    boolean deadOdd(long cell, long version) {
        long[] dead = deadOdd;
        for (int i = 0; i + 1 < dead.length; i += 2) {
            if (dead[i] == cell && dead[i + 1] == version) {
                return true;
            }
        }
        return false;
    }

    /**
     * The fallback after too many optimistic attempts: under the stripes of its bucket nothing changes, so one
     * read is stable. An odd version here has no writer in this process behind it: a writer killed in
     * the middle of an update left it, and only opening the file read-write repairs that.
     */
    private <R> R lockedLookup(long hash, int top, byte[] key, byte[] dest, ValueReader<R> reader) {
        geo.readLock().lock();
        try {
            checkOpen();
            long range = stripesFor(hash);
            lockStripes(range);
            try {
                long ref = find(hash, top, key);
                return reader.read(this, ref, dest);
            } finally {
                unlockStripes(range);
            }
        } finally {
            geo.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- lookup under the lock

    /** Slot reference ({@code cell * 8 + slot}) of {@code key}, or NONE; the caller excludes writers of its bucket. */
    long find(byte[] key) {
        long hash = Hashing.hash(key, h.seed);
        return find(hash, Hashing.tophash(hash), key);
    }

    private long find(long hash, int top, byte[] key) {
        long primary = primaryOf(hash);
        long primaryVersion = layout.version(primary);
        if ((primaryVersion & 1) != 0 && !deadOdd(primary, primaryVersion)) {
            throw HashIndexException.corrupt(file.path(), layout.cellOffset(primary) + BucketLayout.VERSION_OFFSET,
                    "bucket at cell " + primary + " is marked as being written (odd version) but no writer is inside: "
                            + "a writer was killed in the middle of an update; open the file read-write to repair it");
        }
        boolean old = h.growing() && primary - h.oldBucketsCell < h.oldBucketCount && primary >= h.oldBucketsCell;
        return valueRef(findIn(primary, hash, top, key, old));
    }

    /** The slot of {@code key} (by its hash when null, see {@link #lookupByHash}) in the chain at {@code primary}, or NONE. */
    private long findIn(long primary, long hash, int top, byte[] key, boolean oldBucket) {
        return key != null ? layout.find(primary, key, hash, top, oldBucket)
                : layout.findByHash(primary, hash, top, oldBucket, h.seed);
    }

    /** The primary bucket that holds {@code hash}'s entry now: its old bucket while not evacuated. */
    private long primaryOf(long hash) {
        if (h.oldBucketCount != 0) {
            long old = h.oldBucketsCell + Hashing.bucketIndex(hash, h.oldBucketCount);
            if (!isEvacuated(old)) {
                return old;
            }
        }
        return h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
    }

    private long valueRef(long ref) {
        if (ref != NONE) {
            for (int i = 0; i < pendingRefs.length; i++) {
                if (pendingRefs[i] == ref) {
                    return pendingImages[i];
                }
            }
        }
        return ref;
    }

    byte[] value(long ref) {
        return layout.value(ref / SLOTS, (int) (ref % SLOTS));
    }

    int valueLength(long ref) {
        return layout.checkedValueLength(ref / SLOTS, (int) (ref % SLOTS));
    }

    void copyValue(long ref, byte[] dst, int len) {
        layout.copyValue(ref / SLOTS, (int) (ref % SLOTS), dst, len);
    }

    private boolean isEvacuated(long oldCell) {
        return BucketLayout.isEvacuatedMark(layout.tophash(oldCell, 0));
    }

    // ---------------------------------------------------------------- locks

    /** Stripe {@code s} covers the hashes {@code [s * 2^58, (s + 1) * 2^58)}. */
    static final int STRIPES = 64;

    /** The first stripe that bucket {@code b} of an array of {@code n} buckets covers. */
    static int firstStripe(long b, long n) {
        return (int) (b * STRIPES / n);
    }

    /** The last stripe that bucket {@code b} of an array of {@code n} buckets covers. */
    static int lastStripe(long b, long n) {
        return (int) (((b + 1) * STRIPES - 1) / n);
    }

    private void lockStripes(int first, int last) {
        for (int s = first; s <= last; s++) {
            stripes[s].lock();
        }
    }

    private void unlockStripes(int first, int last) {
        for (int s = last; s >= first; s--) {
            stripes[s].unlock();
        }
    }

    /**
     * The stripes a writer of {@code hash} locks, packed as {@code first << 32 | last}: those of its old
     * bucket while growing (they cover both destinations, so evacuating it needs no more), else those
     * of its bucket. The caller holds the geometry lock.
     */
    private long stripesFor(long hash) {
        long n = h.growing() ? h.oldBucketCount : h.bucketCount;
        long b = Hashing.bucketIndex(hash, n);
        return ((long) firstStripe(b, n) << 32) | lastStripe(b, n);
    }

    private void lockStripes(long range) {
        lockStripes((int) (range >>> 32), (int) range);
    }

    private void unlockStripes(long range) {
        unlockStripes((int) (range >>> 32), (int) range);
    }

    /**
     * A writer lane (FORMAT.md section 4), and the scratch space of the writer holding it. A writer takes
     * its lane after its stripes and gives it back before it takes other stripes, so lanes never take
     * part in a deadlock.
     */
    static final class Lane {
        final int index;
        final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        final byte[] scratchKey;
        long[] scratchPages = new long[4];
        byte[] scratchMarks = new byte[4 * SLOTS];
        int[] scratchDestinations = new int[4 * SLOTS];
        byte[] scratchTops = new byte[4 * SLOTS];
        Destination[] destinations = new Destination[4];

        Lane(int index, int keyWidth) {
            this.index = index;
            this.scratchKey = new byte[keyWidth];
        }
    }

    /**
     * The first free lane from lane 0 on (so a lone writer always uses lane 0); when all are taken, waits
     * for one picked by thread.
     */
    private Lane acquireLane() {
        for (Lane lane : lanes) {
            if (lane.lock.tryLock()) {
                return lane;
            }
        }
        Lane lane = lanes[(int) (Thread.currentThread().threadId() & (Header.LANES - 1))];
        lane.lock.lock();
        return lane;
    }

    private static void release(Lane lane) {
        lane.lock.unlock();
    }

    void checkOpen() {
        if (closed) {
            throw HashIndexException.closed(file.path());
        }
    }

    /**
     * Runs {@code body} with no writer in flight and none starting (growth start and end, close, finishing
     * a growth, sync, verify, inspect). Lock-free readers go on meanwhile.
     */
    <T> T exclusive(java.util.function.Supplier<T> body) {
        geo.writeLock().lock();
        try {
            checkOpen();
            return body.get();
        } finally {
            geo.writeLock().unlock();
        }
    }

    /** Closes the table: waits for the writers in flight, evacuates a bounded number of buckets, unmaps. */
    void close(boolean finishSomeGrowth) {
        geo.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (finishSomeGrowth && writable) {
                    finishGrowth(CLOSE_EVACUATION_BOUND);
                    space.releaseRetired(true);
                } else if (!writable) {
                    leaveReaderTable();
                }
            } finally {
                file.close();
            }
        } finally {
            geo.writeLock().unlock();
        }
    }

    // ---------------------------------------------------------------- writes

    /**
     * What a conditional write returns when the key was present and its caller asked only whether it
     * was ({@code copyPrevious} false): the write says that, without copying the value it replaced.
     */
    static final byte[] PRESENT = new byte[0];
    /** What an operation under the stripes returns when a growth must start first. */
    private static final byte[] GROW = new byte[0];

    /** What {@link #write} does under the key's stripes and a lane (no lambda: a put allocates nothing). */
    private static final int PUT = 0;
    private static final int REPLACE = 1;
    private static final int REMOVE = 2;

    /** Inserts or overwrites; returns true when a value was replaced. */
    boolean put(byte[] key, byte[] value) {
        return put(key, value, false, false) != null;
    }

    /**
     * Inserts {@code value} under {@code key}, in one scan of the key's bucket chain. When the key is
     * present and {@code ifAbsent} is set, leaves it and returns a copy of its value; when the key is
     * present otherwise, overwrites it and returns a copy of the value replaced ({@code copyPrevious})
     * or {@link #PRESENT}. Returns null when the key was absent (and is now inserted).
     */
    byte[] put(byte[] key, byte[] value, boolean ifAbsent, boolean copyPrevious) {
        return write(key, PUT, value, null, ifAbsent, copyPrevious);
    }

    /**
     * Overwrites the value of a present key, in one lookup: when {@code expected} is null, whatever its
     * value; otherwise only when the stored value has the same bytes as {@code expected}. Returns a copy
     * of the value replaced, {@link #PRESENT} when {@code expected} was given and matched, or null when
     * nothing was written.
     */
    byte[] replace(byte[] key, byte[] expected, byte[] value) {
        return write(key, REPLACE, value, expected, false, false);
    }

    /** Removes {@code key}; returns true when it was present. */
    boolean remove(byte[] key) {
        return remove(key, null, false) != null;
    }

    /**
     * Removes a present key, in one lookup: when {@code expected} is null, whatever its value; otherwise
     * only when the stored value has the same bytes as {@code expected}. Returns a copy of the value
     * removed ({@code copyPrevious}) or {@link #PRESENT}, or null when nothing was removed.
     */
    byte[] remove(byte[] key, byte[] expected, boolean copyPrevious) {
        return write(key, REMOVE, null, expected, false, copyPrevious);
    }

    /**
     * One write: under the shared geometry lock, the stripes of the key's bucket (its old bucket while
     * growing) and a lane, the operation {@code kind} runs after the key's old bucket is evacuated; then the writer
     * helps the growth under way with one more old bucket. A growth to start or to end needs the
     * geometry lock alone: the writer lets go of everything first.
     */
    private byte[] write(byte[] key, int kind, byte[] value, byte[] expected, boolean ifAbsent,
                         boolean copyPrevious) {
        long hash = Hashing.hash(key, h.seed);
        int top = Hashing.tophash(hash);
        while (true) {
            byte[] outcome;
            geo.readLock().lock();
            try {
                checkOpen();
                writes.increment();
                long range = stripesFor(hash);
                lockStripes(range);
                Lane lane = acquireLane();
                if (lane.index != 0) {
                    overlappingWrites.increment();
                }
                try {
                    if (h.growing()) {
                        evacuate(lane, Hashing.bucketIndex(hash, h.oldBucketCount));
                    }
                    outcome = switch (kind) {
                        case PUT -> putLocked(lane, hash, top, key, value, ifAbsent, copyPrevious);
                        case REPLACE -> replaceLocked(lane, hash, top, key, expected, value);
                        default -> removeLocked(lane, hash, top, key, expected, copyPrevious);
                    };
                } finally {
                    release(lane);
                    unlockStripes(range);
                }
                if (outcome != GROW) {
                    helpGrowth();
                }
            } finally {
                geo.readLock().unlock();
            }
            if (growthEndPending) {
                // the write is done: a close that came first leaves the growth for the next open
                geo.writeLock().lock();
                try {
                    if (growthEndPending && !closed) {
                        endGrowth();
                    }
                } finally {
                    geo.writeLock().unlock();
                }
            }
            if (outcome != GROW) {
                return outcome;
            }
            exclusive(() -> {
                if (!h.growing() && (overLoaded(count() + 1) || tooManyOverflowPages())) {
                    boolean sameSize = !overLoaded(count() + 1);
                    if (space.reserveForGrowth(sameSize ? h.bucketCount : 2 * h.bucketCount)) {
                        startGrowth(sameSize ? 0 : 1);
                    }
                }
                return null;
            });
        }
    }

    private byte[] putLocked(Lane lane, long hash, int top, byte[] key, byte[] value, boolean ifAbsent,
                             boolean copyPrevious) {
        long bucket = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
        long free = NONE;
        long last = bucket;
        long pages = 0;
        scan:
        for (long c = bucket; c != NONE; c = layout.overflow(c, pages++)) {
            last = c;
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                if (th == top) {
                    if (layout.keyEquals(c, i, key, hash)) {
                        if (ifAbsent) {
                            return layout.value(c, i);
                        }
                        byte[] previous = copyPrevious ? layout.value(c, i) : PRESENT;
                        overwrite(lane, bucket, c, i, key, value, hash);
                        return previous;
                    }
                } else if (th == EMPTY_REST) {
                    if (free == NONE) {
                        free = c * SLOTS + i;
                    }
                    break scan;
                } else if (th == EMPTY_ONE && free == NONE) {
                    free = c * SLOTS + i;
                }
            }
        }
        if (!h.growing() && (overLoaded(count() + 1) || tooManyOverflowPages())) {
            boolean sameSize = !overLoaded(count() + 1);
            // a growth starts once its space is written; until then the table takes inserts at a
            // higher load (and on a full disk it keeps doing so, retrying the reservation now and then)
            if (space.reserveForGrowth(sameSize ? h.bucketCount : 2 * h.bucketCount)) {
                return GROW;
            }
        }
        // an out-of-line entry's record is written (and pending in the lane) before the bucket is entered
        long record = needsRecord(key, value) ? records.write(key, value, lane.index) : NONE;
        try {
            if (free == NONE) {
                // extending the file may take a while: do it before readers see the bucket as being written
                space.ensureSpareForInsert();
            }
            enter(lane, bucket, NONE, NONE);
            try {
                if (free == NONE) {
                    free = space.linkNewOverflowPage(last, false) * SLOTS;
                }
                insert(lane, free, top, key, value, hash, record);
                record = NONE; // published
            } finally {
                exit(lane, bucket, NONE, NONE);
            }
        } finally {
            if (record != NONE && Header.laneOp(page, lane.index) == Header.INTENT_NONE) {
                // DISK_FULL (or any other failure) before the slot was taken: nothing is left behind
                records.discard(record, lane.index);
            }
        }
        if (!h.growing()) {
            reserveForNextGrowth();
        }
        return null;
    }

    /**
     * A writer enters primary buckets (up to three; NONE for none): its lane names them first, so that
     * recovery after a kill can make exactly these versions even again, then each version becomes odd.
     */
    private void enter(Lane lane, long a, long b, long c) {
        Header.nameLaneBuckets(page, lane.index, a, b, c);
        layout.enterBucket(a);
        if (b != NONE) {
            layout.enterBucket(b);
        }
        if (c != NONE) {
            layout.enterBucket(c);
        }
    }

    /** Leaves the buckets {@link #enter} entered: each version becomes even, then the lane forgets them. */
    private void exit(Lane lane, long a, long b, long c) {
        if (c != NONE) {
            layout.exitBucket(c);
        }
        if (b != NONE) {
            layout.exitBucket(b);
        }
        layout.exitBucket(a);
        Header.nameLaneBuckets(page, lane.index, NONE, NONE, NONE);
    }

    private void insert(Lane lane, long ref, int top, byte[] key, byte[] value, long hash, long record) {
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        long laneCount = Header.laneCount(page, lane.index);
        Header.beginLaneIntent(page, lane.index, Header.INTENT_INSERT, ref, laneCount);
        writeImage(cell, slot, key, value, hash, record);
        VarHandle.storeStoreFence();
        layout.setTophash(cell, slot, top);
        Header.setLaneCount(page, lane.index, laneCount + 1);
        if (record != NONE) {
            VarHandle.storeStoreFence();
            records.published(lane.index); // the slot names it now
        }
        Header.endLaneIntent(page, lane.index);
        liveEntries.increment();
        h.count = count(); // informative (the header copy takes the count from countSource)
    }

    /** Whether an entry of this key and value goes out of line (only in a variable-length file). */
    private boolean needsRecord(byte[] key, byte[] value) {
        return records != null && layout.needsRecord(key.length, value.length);
    }

    /** Writes a slot's image: the key and value bytes, or the reference to {@code record} (not NONE). */
    private void writeImage(long cell, int slot, byte[] key, byte[] value, long hash, long record) {
        if (record != NONE) {
            layout.writeOutOfLineSlot(cell, slot, record, hash, key.length, value.length);
        } else {
            layout.writeSlot(cell, slot, key, value);
        }
    }

    /**
     * Replaces a live slot's value without ever leaving it neither old nor new: journal, intent, copy.
     * In a variable-length file the new record (if any) is written first, pending in the lane; the old
     * record (if any) is announced as freed (chain record op 4) before the intent, so that a crash after
     * the intent (whose replay makes the slot stop naming it) does not leak it, and freed after the copy,
     * while the bucket's version is still odd. From the announcement to the free this writer holds the
     * space monitor: the chain record is one per file, and no other header update may come in between.
     */
    private void overwrite(Lane lane, long bucket, long cell, int slot, byte[] key, byte[] value, long hash) {
        long oldRecord = layout.outOfLine(cell, slot) ? layout.recordOf(cell, slot) : NONE;
        long oldCells = oldRecord != NONE ? layout.recordLength(oldRecord) : 0;
        long record = needsRecord(key, value) ? records.write(key, value, lane.index) : NONE;
        try {
            overwriteWith(lane, bucket, cell, slot, key, value, hash, oldRecord, oldCells, record);
        } catch (RuntimeException e) {
            if (record != NONE && Header.laneOp(page, lane.index) == Header.INTENT_NONE) {
                // failed before the intent: the new record is still only pending, nothing else changed
                records.discardAfter(e, record, lane.index);
            }
            throw e;
        }
    }

    /** The rest of {@link #overwrite} once the new record (if any) is written and pending in the lane. */
    private void overwriteWith(Lane lane, long bucket, long cell, int slot, byte[] key, byte[] value, long hash,
                               long oldRecord, long oldCells, long record) {
        writeImage(h.journalCell, lane.index, key, value, hash, record);
        VarHandle.storeStoreFence();
        if (oldRecord == NONE) {
            Header.beginLaneIntent(page, lane.index, Header.INTENT_OVERWRITE, cell * SLOTS + slot,
                    Header.laneCount(page, lane.index));
            enter(lane, bucket, NONE, NONE);
            try {
                layout.copySlot(h.journalCell, lane.index, cell, slot);
                if (record != NONE) {
                    VarHandle.storeStoreFence();
                    records.published(lane.index);
                }
            } finally {
                exit(lane, bucket, NONE, NONE);
            }
        } else {
            // the space monitor is taken before the version becomes odd: readers of this bucket never
            // see it odd while this writer waits for the monitor (held by another writer extending the file)
            synchronized (space) {
                enter(lane, bucket, NONE, NONE);
                try {
                    space.announceRecordFree(oldRecord, cell * SLOTS + slot);
                    VarHandle.storeStoreFence();
                    Header.beginLaneIntent(page, lane.index, Header.INTENT_OVERWRITE, cell * SLOTS + slot,
                            Header.laneCount(page, lane.index));
                    layout.copySlot(h.journalCell, lane.index, cell, slot);
                    VarHandle.storeStoreFence();
                    if (record != NONE) {
                        records.published(lane.index);
                        VarHandle.storeStoreFence();
                    }
                    space.freeRecord(oldRecord, oldCells);
                } finally {
                    exit(lane, bucket, NONE, NONE);
                }
            }
        }
        Header.endLaneIntent(page, lane.index);
    }

    private byte[] replaceLocked(Lane lane, long hash, int top, byte[] key, byte[] expected, byte[] value) {
        long bucket = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
        long ref = layout.find(bucket, key, hash, top, false);
        if (ref == NONE) {
            return null;
        }
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        byte[] previous;
        if (expected == null) {
            previous = layout.value(cell, slot);
        } else if (layout.valueEquals(cell, slot, expected)) {
            previous = PRESENT;
        } else {
            return null;
        }
        overwrite(lane, bucket, cell, slot, key, value, hash);
        return previous;
    }

    /** Empties a slot inside its bucket's odd window; an out-of-line slot's record is announced before and freed after. */
    private void clearSlot(Lane lane, long bucket, long cell, int slot, long record, long recordCells) {
        enter(lane, bucket, NONE, NONE);
        try {
            if (record != NONE) {
                space.announceRecordFree(record, cell * SLOTS + slot);
                VarHandle.storeStoreFence();
            }
            layout.setTophash(cell, slot, EMPTY_ONE);
            markEmptyRest(bucket, cell, slot);
            if (record != NONE) {
                VarHandle.storeStoreFence();
                space.freeRecord(record, recordCells);
            }
        } finally {
            exit(lane, bucket, NONE, NONE);
        }
    }

    private byte[] removeLocked(Lane lane, long hash, int top, byte[] key, byte[] expected, boolean copyPrevious) {
        long bucket = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
        long ref = layout.find(bucket, key, hash, top, false);
        if (ref == NONE) {
            return null;
        }
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        if (expected != null && !layout.valueEquals(cell, slot, expected)) {
            return null;
        }
        byte[] previous = copyPrevious ? layout.value(cell, slot) : PRESENT;
        long record = layout.outOfLine(cell, slot) ? layout.recordOf(cell, slot) : NONE;
        long recordCells = record != NONE ? layout.recordLength(record) : 0;
        long laneCount = Header.laneCount(page, lane.index);
        Header.beginLaneIntent(page, lane.index, Header.INTENT_REMOVE, ref, laneCount);
        if (record == NONE) {
            clearSlot(lane, bucket, cell, slot, NONE, 0);
        } else {
            // the record is announced before the slot stops naming it and freed while the bucket's
            // version is odd, under the space monitor throughout (see overwrite); the monitor is taken
            // before the version becomes odd, so readers never see an odd version while this writer
            // waits for it (another writer may hold it while the file is extended)
            synchronized (space) {
                clearSlot(lane, bucket, cell, slot, record, recordCells);
            }
        }
        Header.setLaneCount(page, lane.index, laneCount - 1);
        Header.endLaneIntent(page, lane.index);
        liveEntries.decrement();
        h.count = count();
        return previous;
    }

    /**
     * After emptying a slot: if every later slot of the chain is empty, turn this slot and the empty
     * slots before it into EMPTY_REST, walking backwards (as Go does), so lookups stop early.
     */
    private void markEmptyRest(long bucket, long cell, int slot) {
        if (slot == SLOTS - 1) {
            long next = layout.overflow(cell);
            if (next != NONE && layout.tophash(next, 0) != EMPTY_REST) {
                return;
            }
        } else if (layout.tophash(cell, slot + 1) != EMPTY_REST) {
            return;
        }
        long c = cell;
        int i = slot;
        while (true) {
            layout.setTophash(c, i, EMPTY_REST);
            if (i == 0) {
                if (c == bucket) {
                    return;
                }
                long prev = bucket;
                long pages = 0;
                while (layout.overflow(prev) != c) {
                    prev = layout.overflow(prev, pages++);
                }
                c = prev;
                i = SLOTS - 1;
            } else {
                i--;
            }
            if (layout.tophash(c, i) != EMPTY_ONE) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- growth

    private boolean overLoaded(long count) {
        // count > 6.5 * buckets, in integers
        return 2 * count > 13 * h.bucketCount;
    }

    /** A heuristic: read without the space lock, so it may be a write behind. */
    private boolean tooManyOverflowPages() {
        return h.overflowPages > h.bucketCount;
    }

    /** Buckets that hold {@code n} entries at a load of at most 6.5. */
    static long bucketsFor(long n) {
        return Math.max(1, (2 * n + 12) / 13);
    }

    /**
     * Overflow pages a presized file sets aside: the expected need at load 6.5 (20.8% of buckets,
     * rounded up to 21%) plus three standard deviations of it ({@code 3 * sqrt(0.21 * 0.79 * buckets)},
     * bounded above by {@code 1.25 * sqrt(buckets)}), so a presized load almost never extends the file.
     */
    static long overflowReserveFor(long buckets) {
        return (buckets * 21 + 99) / 100 + (long) Math.ceil(1.25 * Math.sqrt(buckets));
    }

    /**
     * Once a table that has doubled before is three quarters of the way to its next doubling, each
     * insert writes a bounded share of the next growth's space (its array and evacuation margin, see
     * {@link Space#growthEnd}), so the doubling itself writes nothing big. A presized file that outgrows
     * its size writes that space in bounded steps after it passes the threshold, and grows when done.
     */
    private void reserveForNextGrowth() {
        long threshold = 13 * h.bucketCount / 2;
        long n = count();
        if (h.doublings == 0 || 4 * n < 3 * threshold || n <= reservedFor) {
            // A file that never doubled was presized (or is one bucket), and one reserved for more
            // entries than it holds expects them: its owner does not expect growth beyond, so it does
            // not pay for the space in advance.
            return;
        }
        space.reserveAhead(space.growthEnd(2 * h.bucketCount), threshold - n + 1);
    }

    /**
     * Makes room for {@code expectedEntries} entries in one step: finishes a growth under way, then, if
     * the array is too small, starts a growth straight to {@code 2^k} times the buckets, the smallest
     * such count that holds them at a load of at most 6.5. The file is extended first, by its new
     * array, the evacuation margin and the overflow pages a presized file sets aside
     * ({@link #overflowReserveFor}), so the load that follows rarely extends it. The entries move over
     * incrementally as in any growth. Returns the shift {@code k}, 0 when the table was large enough.
     * Throws {@code DISK_FULL} before changing anything when the file cannot be extended. Takes the
     * geometry lock exclusively.
     */
    int reserve(long expectedEntries) {
        return exclusive(() -> {
            finishGrowth(Long.MAX_VALUE);
            reservedFor = Math.max(reservedFor, expectedEntries);
            long needed = bucketsFor(expectedEntries);
            int shift = 0;
            while (h.bucketCount << shift < needed) {
                shift++;
            }
            if (shift == 0) {
                return 0;
            }
            long newCount = h.bucketCount << shift;
            long end = space.growthEnd(newCount, overflowReserveFor(newCount));
            if (file.size() < end) {
                file.extendTo(end, "to make room for " + expectedEntries + " entries");
            }
            startGrowth(shift);
            return shift;
        });
    }

    /**
     * Starts a growth to {@code 2^shift} times the buckets (shift 0: a same-size growth); the caller
     * holds the geometry lock exclusively.
     */
    private void startGrowth(int shift) {
        boolean sameSize = shift == 0;
        long newCount = h.bucketCount << shift;
        synchronized (space) {
            long first = space.reserveArray(newCount);
            space.startEvacuation(h.overflowPages);
            h.oldBucketCount = h.bucketCount;
            h.oldBucketsCell = h.bucketsCell;
            h.oldOverflowPages = h.overflowPages;
            h.evacuated = 0;
            h.bucketCount = newCount;
            h.bucketsCell = first;
            h.overflowPages = 0;
            h.allocatedCells = first + newCount;
            evacuatedCount = 0;
            helpCursor.set(0);
            if (sameSize) {
                h.sameSizeGrowths++;
            } else {
                h.doublings += shift;
            }
            h.store(page);
        }
        publishGeometry();
    }

    /**
     * The set of primary buckets changed: readers get the new geometry, then the reuse epoch moves on,
     * so a reader that still uses the old picture fails its validation (FORMAT.md section 6, "Lookup").
     */
    private void publishGeometry() {
        geometry = Geometry.of(h);
        Header.advanceEpoch(page);
    }

    /**
     * After its own write, a writer evacuates one more old bucket: the next one no writer has claimed
     * (a shared cursor hands each bucket to one helper), or, once all were handed out, the one at the
     * evacuation mark. So a growth of n old buckets ends within about n writes, and writers help on
     * different buckets instead of queueing on one. Holds the geometry lock shared; takes the old
     * bucket's stripes and a lane.
     */
    private void helpGrowth() {
        if (!h.growing() || growthEndPending) {
            return;
        }
        long oldCount = h.oldBucketCount;
        long i = helpCursor.getAndIncrement();
        if (i >= oldCount) {
            synchronized (space) {
                i = h.evacuated;
            }
            if (i >= oldCount) {
                return;
            }
        }
        int first = firstStripe(i, oldCount);
        int last = lastStripe(i, oldCount);
        lockStripes(first, last);
        Lane lane = acquireLane();
        try {
            evacuate(lane, i);
        } finally {
            release(lane);
            unlockStripes(first, last);
        }
    }

    /**
     * Evacuates up to {@code limit} old buckets in order, and ends the growth when they are all done;
     * returns how many old buckets remain. The caller holds the geometry lock exclusively.
     */
    long finishGrowth(long limit) {
        Lane lane = lanes[0];
        lane.lock.lock();
        try {
            for (long i = 0; i < limit && h.growing() && !growthEndPending; i++) {
                evacuate(lane, h.evacuated);
            }
        } finally {
            release(lane);
        }
        if (growthEndPending) {
            endGrowth();
        }
        return h.growing() ? h.oldBucketCount - h.evacuated : 0;
    }

    /**
     * Evacuates old bucket {@code oldIndex} unless it is done, and moves the evacuation mark when it is
     * the bucket at the mark. The caller holds the stripes of that old bucket (or the geometry lock
     * exclusively) and {@code lane}.
     */
    private void evacuate(Lane lane, long oldIndex) {
        long old = h.oldBucketsCell + oldIndex;
        boolean moved = false;
        if (!isEvacuated(old)) {
            moveBucket(lane, oldIndex, old);
            moved = true;
        }
        synchronized (space) {
            if (moved && evacuatedCount >= 0) {
                evacuatedCount++;
            }
            if (oldIndex == h.evacuated && !growthEndPending) {
                advanceEvacuationMark();
            }
        }
    }

    private void moveBucket(Lane lane, long oldIndex, long old) {
        int shift = h.growthShift();
        // the lane names the old bucket and its first and last destination; recovery makes every odd
        // version in the old bucket's destination range even (FORMAT.md section 4), so a growth by 2^k
        // needs no more names than a doubling
        long first = h.bucketsCell + (oldIndex << shift);
        long last = first + (1L << shift) - 1;
        Header.nameLaneBuckets(page, lane.index, old, first, last == first ? NONE : last);
        layout.enterBucket(old);
        for (long c = first; c <= last; c++) {
            layout.enterBucket(c);
        }
        try {
            copyAndMark(lane, oldIndex, old, shift);
        } finally {
            for (long c = last; c >= first; c--) {
                layout.exitBucket(c);
            }
            layout.exitBucket(old);
            Header.nameLaneBuckets(page, lane.index, NONE, NONE, NONE);
        }
    }

    private void copyAndMark(Lane lane, long oldIndex, long old, int shift) {
        // Walk the old chain before copying: the overflow pages the copies allocate raise the
        // allocated cells, which bound the walk, so a cyclic chain walked while copying would grow
        // the file without end instead of being reported as a cycle.
        int pages = 0;
        for (long c = old; c != NONE; c = layout.overflow(c, pages)) {
            if (pages == lane.scratchPages.length) {
                lane.scratchPages = Arrays.copyOf(lane.scratchPages, pages * 2);
                lane.scratchMarks = Arrays.copyOf(lane.scratchMarks, pages * 2 * SLOTS);
                lane.scratchDestinations = Arrays.copyOf(lane.scratchDestinations, pages * 2 * SLOTS);
                lane.scratchTops = Arrays.copyOf(lane.scratchTops, pages * 2 * SLOTS);
            }
            lane.scratchPages[pages++] = c;
        }
        // Where each entry goes. Only those destinations can hold an interrupted earlier copy of this
        // bucket (its entries have not changed since: every write evacuates its old bucket first), so
        // only they are cleared; a growth by 2^k need not touch the other new buckets of the range.
        int destinations = 0;
        for (int p = 0; p < pages; p++) {
            long c = lane.scratchPages[p];
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                int at = p * SLOTS + i;
                lane.scratchMarks[at] = EVACUATED_EMPTY;
                if (th >= MIN_TOPHASH || th == EVACUATED_X || th == EVACUATED_Y) {
                    long hash;
                    if (layout.outOfLine(c, i)) {
                        hash = layout.storedHash(c, i); // the record is not read: growth moves only the slot
                    } else {
                        int len = layout.readKey(c, i, lane.scratchKey);
                        hash = Hashing.xxh64(lane.scratchKey, 0, len, h.seed);
                    }
                    long dest = Hashing.bucketIndex(hash, h.bucketCount);
                    lane.scratchMarks[at] = (byte) evacuationMark(dest, oldIndex, shift);
                    int d = 0;
                    while (d < destinations && lane.destinations[d].bucket != h.bucketsCell + dest) {
                        d++;
                    }
                    if (d == destinations) {
                        if (d == lane.destinations.length) {
                            lane.destinations = Arrays.copyOf(lane.destinations, d * 2);
                        }
                        if (lane.destinations[d] == null) {
                            lane.destinations[d] = new Destination();
                        }
                        lane.destinations[d].start(h.bucketsCell + dest);
                        destinations++;
                    }
                    lane.scratchDestinations[at] = d;
                    lane.scratchTops[at] = (byte) Hashing.tophash(hash);
                }
            }
        }
        for (int d = 0; d < destinations; d++) {
            clearDestination(lane.destinations[d].bucket);
        }
        for (int p = 0; p < pages; p++) {
            long c = lane.scratchPages[p];
            for (int i = 0; i < SLOTS; i++) {
                int at = p * SLOTS + i;
                if (lane.scratchMarks[at] != EVACUATED_EMPTY) {
                    lane.destinations[lane.scratchDestinations[at]].append(c, i, lane.scratchTops[at] & 0xff);
                }
            }
        }
        VarHandle.storeStoreFence();
        // Mark backwards: slot 0 of the primary bucket last, so "evacuated" implies "fully copied".
        for (int p = pages - 1; p >= 0; p--) {
            for (int i = SLOTS - 1; i >= 0; i--) {
                if (p == 0 && i == 0) {
                    VarHandle.storeStoreFence();
                }
                layout.setTophash(lane.scratchPages[p], i, lane.scratchMarks[p * SLOTS + i]);
            }
        }
    }

    /**
     * The mark an evacuated slot gets when its entry moved from old bucket {@code oldIndex} to new
     * bucket {@code dest} in a growth by {@code 2^shift}: evacuated_x for the lower half of the old
     * bucket's destinations ({@code 2b} in a doubling, and every entry of a same-size growth),
     * evacuated_y for the upper half.
     */
    static int evacuationMark(long dest, long oldIndex, int shift) {
        if (shift == 0) {
            return EVACUATED_X;
        }
        return dest - (oldIndex << shift) < 1L << (shift - 1) ? EVACUATED_X : EVACUATED_Y;
    }

    /** The growth under way as {@link HashIndex#growth()} reports it: header fields and the evacuated count. */
    Inspection.Growth growth() {
        if (!h.growing()) {
            return new Inspection.Growth(false, false, 0, h.evacuated, 0, h.oldOverflowPages);
        }
        long evacuatedNow = evacuatedCount;
        if (evacuatedNow < 0) {
            evacuatedNow = 0;
            for (long b = 0; b < h.oldBucketCount; b++) {
                if (isEvacuated(h.oldBucketsCell + b)) {
                    evacuatedNow++;
                }
            }
            evacuatedCount = evacuatedNow;
        }
        return new Inspection.Growth(true, h.oldBucketCount == h.bucketCount, h.oldBucketCount,
                h.evacuated, evacuatedNow, h.oldOverflowPages);
    }

    /** Where evacuated entries go in one destination bucket: the next slot of its chain (Go's evacDst). */
    private final class Destination {
        private long bucket;
        private long cell;
        private int slot;

        void start(long bucket) {
            this.bucket = bucket;
            this.cell = bucket;
            this.slot = 0;
        }

        void append(long fromCell, int fromSlot, int top) {
            if (slot == SLOTS) {
                cell = space.linkNewOverflowPage(cell, true);
                slot = 0;
            }
            layout.copySlot(fromCell, fromSlot, cell, slot);
            layout.setTophash(cell, slot++, top);
        }
    }

    /** A destination of an unevacuated bucket holds only a crashed earlier copy: empty it. */
    private void clearDestination(long bucket) {
        if (layout.overflow(bucket) == NONE && layout.tophash(bucket, 0) == EMPTY_REST) {
            return;
        }
        space.clearBucket(bucket);
    }

    /**
     * Moves the evacuation mark past the bucket at it and up to 1024 buckets evacuated already, and
     * records it in the header. The mark is a lower bound that only advances past buckets whose slot 0
     * is marked, which is written last, so several evacuating writers can never make it claim too much.
     * Reaching the end leaves the growth to be ended under the exclusive geometry lock
     * ({@link #endGrowth}). Caller holds the space lock.
     */
    private void advanceEvacuationMark() {
        long e = h.evacuated + 1;
        long stop = Math.min(h.oldBucketCount, e + 1024);
        while (e < stop && isEvacuated(h.oldBucketsCell + e)) {
            e++;
        }
        if (e == h.oldBucketCount) {
            // every old bucket is evacuated: the growth-ending update follows, so no header update here;
            // until it, the mark stays below the end (a header copy never records a growth that has
            // nothing left to do; a lower mark is still true)
            growthEndPending = true;
            h.evacuated = h.oldBucketCount - 1;
        } else {
            h.evacuated = e;
            h.store(page);
        }
    }

    /** Ends a growth whose old buckets are all evacuated; the caller holds the geometry lock exclusively. */
    private void endGrowth() {
        synchronized (space) {
            long cell = h.oldBucketsCell;
            long buckets = h.oldBucketCount;
            long overflow = h.oldOverflowPages;
            h.oldBucketCount = 0;
            h.oldBucketsCell = 0;
            h.oldOverflowPages = 0;
            h.evacuated = 0;
            growthEndPending = false;
            publishGeometry();
            space.retireArray(cell, buckets, overflow);
        }
    }

    // ---------------------------------------------------------------- iteration

    /** A new iterator's cursor, registered with the space so that the arrays it may read stay. */
    Cursor newCursor(RandomGenerator random) {
        geo.readLock().lock();
        try {
            checkOpen();
            return new Cursor(random);
        } finally {
            geo.readLock().unlock();
        }
    }

    /**
     * Go's map iterator over the mapped file, made weakly consistent: it walks the bucket array current
     * at its start from a random bucket and slot offset, reading one bucket (with its chain) at a time
     * under the stripes that cover it, so no writer changes what it reads, and hands out the entries
     * from that copy. While the array it walks is being filled by a growth, for each bucket it reads
     * the old bucket instead if that one is not evacuated yet, keeping only the entries that belong to
     * this bucket. An entry found in a slot already marked evacuated has moved on: it is looked up in
     * the current table, which gives its current value or tells that it was removed. Before an entry is
     * handed out, the version of the bucket it was read from is checked: if a writer changed that chain
     * since, the entry is looked up again (and skipped if it is gone). So an entry present for the whole
     * iteration is returned exactly once, an entry removed is not returned after its removal, and no
     * concurrent write makes the iterator fail. Arrays that an iterator may read are not reused until it
     * is finished (see {@link Space}).
     */
    final class Cursor {
        private final long startBuckets;
        private final long startCell;
        private final long startBucket;
        private final int offset;
        private final long stamp;
        /** The oldest retirement whose array this iterator may read ({@link Header#oldestReadable}): a reader process pins it. */
        private final long growth;
        private long bucket;
        private boolean wrapped;
        private volatile boolean finished;
        /** Whether the last {@link #copyChainAsItIs} took a value from a journal image (read-only, after a crash). */
        private boolean imageRead;
        /** Entries of the last bucket read, and the primary cell and version each was read under. */
        private final java.util.ArrayDeque<Buffered> buffer = new java.util.ArrayDeque<>();
        private Map.Entry<byte[], byte[]> next;
        private Buffered nextFrom;

        /** {@code key} null: an out-of-line entry that moved on, looked up by {@code hash} when handed out. */
        private record Buffered(byte[] key, byte[] value, long primary, long version, long hash) {
        }

        Cursor(RandomGenerator random) {
            this.startBuckets = h.bucketCount;
            this.startCell = h.bucketsCell;
            long r = random.nextLong();
            this.startBucket = Long.remainderUnsigned(r, startBuckets);
            this.offset = (int) (r >>> 61);
            this.bucket = startBucket;
            this.growth = h.oldestReadable();
            this.stamp = space.register(this);
        }

        long stamp() {
            return stamp;
        }

        long growth() {
            return growth;
        }

        boolean finished() {
            return finished;
        }

        /** Reads the next bucket of the walk into the buffer; false when the walk is over. */
        private boolean fill() {
            if (bucket == startBucket && wrapped) {
                finished = true;
                if (!writable) {
                    movePin(); // this iterator no longer holds the arrays it started on
                }
                return false;
            }
            long b = bucket;
            if (!writable) {
                fillBesideWriter(b); // may throw Stale before the walk moves on
                nextBucket();
                return true;
            }
            nextBucket();
            geo.readLock().lock();
            try {
                checkOpen();
                // stripes of the larger bucket read: the old bucket while the walked array is filling
                boolean filling = h.growing() && startBuckets == h.bucketCount;
                long oldIndex = filling ? h.oldIndexOf(b) : 0;
                int first = filling ? firstStripe(oldIndex, h.oldBucketCount) : firstStripe(b, startBuckets);
                int last = filling ? lastStripe(oldIndex, h.oldBucketCount) : lastStripe(b, startBuckets);
                lockStripes(first, last);
                try {
                    long cell = startCell + b;
                    long checkBucket = NONE;
                    if (filling && !isEvacuated(h.oldBucketsCell + oldIndex)) {
                        cell = h.oldBucketsCell + oldIndex;
                        checkBucket = b;
                    }
                    readChain(cell, checkBucket);
                } finally {
                    unlockStripes(first, last);
                }
            } finally {
                geo.readLock().unlock();
            }
            return true;
        }

        /** Copies the entries of the chain at {@code primary} into the buffer (under the stripes covering it). */
        private void readChain(long primary, long checkBucket) {
            long version = layout.version(primary);
            long pages = 0;
            for (long cell = primary; cell != NONE; cell = layout.overflow(cell, ++pages)) {
                for (int i = 0; i < SLOTS; i++) {
                    int slot = (i + offset) & (SLOTS - 1);
                    int th = layout.tophash(cell, slot);
                    if (BucketLayout.isEmpty(th)) {
                        continue;
                    }
                    boolean moved = th == EVACUATED_X || th == EVACUATED_Y;
                    if (layout.outOfLine(cell, slot)) {
                        long keyHash = layout.storedHash(cell, slot);
                        if (checkBucket != NONE && Hashing.bucketIndex(keyHash, startBuckets) != checkBucket) {
                            continue;
                        }
                        if (moved) {
                            // the record this old slot names may have been freed since the entry moved on:
                            // find the entry by the hash the slot keeps (under these stripes, which cover
                            // its bucket now), and read its key where it is now
                            long ref = find(keyHash, Hashing.tophash(keyHash), null);
                            if (ref != NONE) {
                                buffer.add(new Buffered(layout.key(ref / SLOTS, (int) (ref % SLOTS)), value(ref),
                                        NONE, 0, 0));
                            }
                            continue;
                        }
                    }
                    byte[] key = layout.key(cell, slot);
                    // judged by the bucket count this iterator walks: the table may have grown again since
                    if (checkBucket != NONE
                            && Hashing.bucketIndex(Hashing.hash(key, h.seed), startBuckets) != checkBucket) {
                        continue;
                    }
                    if (!moved) {
                        buffer.add(new Buffered(key, value(valueRef(cell * SLOTS + slot)), primary, version, 0));
                    } else {
                        // moved on: its current value, checked again when handed out
                        long ref = find(key);
                        if (ref != NONE) {
                            buffer.add(new Buffered(key, value(ref), NONE, 0, 0));
                        }
                    }
                }
            }
        }

        /** The entry as it is now: as read when its chain has not changed since, else looked up again. */
        private Map.Entry<byte[], byte[]> current(Buffered b) {
            if (!writable) {
                // a read-only table returns the entry as it was read, at a moment of the iteration (an
                // entry looked up again could be gone after hasNext() said there was one)
                if (b.key() == null) {
                    return lookupByHash(b.hash(), ENTRY);
                }
                byte[] v = b.value() != null ? b.value() : lookupValue(b.key());
                return v == null ? null : new AbstractMap.SimpleImmutableEntry<>(b.key(), v);
            }
            if (b.primary() != NONE && layout.versionAfterReads(b.primary()) == b.version()) {
                return new AbstractMap.SimpleImmutableEntry<>(b.key(), b.value());
            }
            byte[] v = lookup(b.key(), null, (t, ref, dest) -> ref < 0 ? null : t.value(ref));
            return v == null ? null : new AbstractMap.SimpleImmutableEntry<>(b.key(), v);
        }

        private void nextBucket() {
            bucket++;
            if (bucket == startBuckets) {
                bucket = 0;
                wrapped = true;
            }
        }

        /**
         * A read-only table's step, while a writer process may change any bucket: the bucket's chain is
         * copied whole under its primary bucket's version (as a lookup reads) into the buffer; an entry
         * marked evacuated is looked up where it went when it is handed out. A step that meets the
         * writer's later changes throws {@link Stale} before it moves on, so the caller reads the header
         * and repeats it.
         */
        private void fillBesideWriter(long b) {
            ReaderView v = view;
            if (v.epoch() != Header.epoch(page)) {
                throw Stale.INSTANCE;
            }
            Geometry g = v.geometry();
            long target = startCell + b;
            long check = NONE;
            if (g.growing() && startBuckets == g.bucketCount()) {
                long old = g.oldBucketsCell() + g.oldIndexOf(b);
                if (!isEvacuated(old)) {
                    target = old;
                    check = b;
                }
            }
            for (SlotCopy e : copyChain(target, check)) {
                buffer.add(new Buffered(e.key(), e.value(), NONE, 0, e.hash()));
            }
        }

        /**
         * The live entries of the chain at {@code cell} (of buckets that belong to bucket {@code check} of
         * this iterator's array, when not NONE), read under the version of {@code cell} when it is a
         * primary bucket (an array no longer primary is pinned by this iterator and changes no more). An
         * entry under an evacuated-X/Y mark is copied without its value: it is looked up where it went.
         */
        private List<SlotCopy> copyChain(long cell, long check) {
            for (int attempt = 0; ; attempt++) {
                if (attempt > 0) {
                    backOff(Math.min(attempt, OPTIMISTIC_ATTEMPTS));
                    if (attempt % 16 == 0) {
                        if (file.handle().holdWritersOut()) {
                            // no writer at work: nothing changes while it stays out, so one read is stable
                            try {
                                if (pendingRefs.length != 0 && stale()) {
                                    // a writer came and went since the journal images were read: they may
                                    // hold other keys' values now (the replay put these in their slots)
                                    throw Stale.INSTANCE;
                                }
                                return copyChainAsItIs(cell, check, () -> true);
                            } finally {
                                file.handle().letWritersIn();
                            }
                        }
                        throw Stale.INSTANCE; // read the header again, then try again
                    }
                }
                long epoch = Header.epoch(page);
                ReaderView v = view;
                if (v.epoch() != epoch) {
                    throw Stale.INSTANCE; // the primary buckets changed since this view was read
                }
                boolean primary = isPrimaryIn(v.geometry(), cell);
                long version = primary ? layout.version(cell) : 0;
                if (primary && (version & 1) != 0 && !deadOdd(cell, version)) {
                    continue;
                }
                List<SlotCopy> out;
                imageRead = false;
                try {
                    long expected = version;
                    out = copyChainAsItIs(cell, check, primary ? () -> unchanged(cell, expected, epoch)
                            : () -> Header.epochAfterReads(page) == epoch);
                } catch (HashIndexException.FileFormat | IllegalStateException | IndexOutOfBoundsException e) {
                    if (file.isClosed()) {
                        throw HashIndexException.closed(file.path());
                    }
                    if ((primary ? !unchanged(cell, version, epoch) : Header.epochAfterReads(page) != epoch)
                            || (imageRead && !imagesCurrent(v))) {
                        continue;
                    }
                    if (stale()) {
                        throw Stale.INSTANCE; // a link to a cell this view does not know yet, a chunk not mapped yet
                    }
                    if (e instanceof HashIndexException) {
                        throw e;
                    }
                    throw HashIndexException.corrupt(file.path(), layout.cellOffset(cell), "the chain of cell " + cell
                            + " cannot be read (" + e.getMessage() + ")");
                }
                if ((primary ? unchanged(cell, version, epoch) : Header.epochAfterReads(page) == epoch)
                        && (!imageRead || imagesCurrent(v))) {
                    return out;
                }
            }
        }

        /**
         * The live entries of the chain at {@code cell}, read without validation (see {@link #copyChain}),
         * except that {@code stillValid} is asked after each out-of-line value: what a changing chain
         * holds may be garbage, and garbage lengths (each up to 16 MiB) must not add up to an allocation
         * the heap cannot take before the read is found invalid (then IllegalStateException: a retry).
         */
        private List<SlotCopy> copyChainAsItIs(long cell, long check, java.util.function.BooleanSupplier stillValid) {
            List<SlotCopy> out = new ArrayList<>();
            long pages = 0;
            for (long c = cell; c != NONE; c = layout.overflow(c, pages++)) {
                for (int k = 0; k < SLOTS; k++) {
                    int slot = (k + offset) & (SLOTS - 1);
                    int th = layout.tophash(c, slot);
                    if (BucketLayout.isEmpty(th)) {
                        continue;
                    }
                    boolean moved = th == EVACUATED_X || th == EVACUATED_Y;
                    if (moved && layout.outOfLine(c, slot)) {
                        // its record may have been freed since it moved on: looked up by its hash instead
                        long keyHash = layout.storedHash(c, slot);
                        if (check == NONE || Hashing.bucketIndex(keyHash, startBuckets) == check) {
                            out.add(new SlotCopy(null, null, keyHash));
                        }
                        continue;
                    }
                    byte[] key = layout.key(c, slot);
                    if (check != NONE && Hashing.bucketIndex(Hashing.hash(key, h.seed), startBuckets) != check) {
                        continue;
                    }
                    byte[] value = null;
                    if (!moved) {
                        long ref = valueRef(c * SLOTS + slot);
                        imageRead |= ref != c * SLOTS + slot;
                        value = value(ref);
                    }
                    out.add(new SlotCopy(key, value, 0));
                    if (!moved && layout.outOfLine(c, slot) && !stillValid.getAsBoolean()) {
                        throw new IllegalStateException("the chain changed while it was copied");
                    }
                }
            }
            return out;
        }

        boolean hasNext() {
            checkOpen();
            if (next != null) {
                // looked ahead already: hand it out only as it is now
                next = current(nextFrom);
                if (next != null) {
                    return true;
                }
            }
            while (true) {
                while (!buffer.isEmpty()) {
                    // peeked first: in a read-only table current() may throw Stale, and the step is
                    // then repeated with the entry still in the buffer
                    Buffered b = buffer.peek();
                    Map.Entry<byte[], byte[]> e = current(b);
                    buffer.poll();
                    nextFrom = b;
                    next = e;
                    if (next != null) {
                        return true;
                    }
                }
                if (finished || !fill()) {
                    return false;
                }
            }
        }

        Map.Entry<byte[], byte[]> nextEntry() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Map.Entry<byte[], byte[]> e = next;
            next = null;
            nextFrom = null;
            return e;
        }
    }
}
