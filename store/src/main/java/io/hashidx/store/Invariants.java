package io.hashidx.store;

import static io.hashidx.store.BucketLayout.EMPTY_REST;
import static io.hashidx.store.BucketLayout.EVACUATED_EMPTY;
import static io.hashidx.store.BucketLayout.EVACUATED_X;
import static io.hashidx.store.BucketLayout.EVACUATED_Y;
import static io.hashidx.store.BucketLayout.MIN_TOPHASH;
import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.BucketLayout.SLOTS;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Every invariant of FORMAT.md ("Invariants"), checked over the whole file. Used by tests after
 * every reopen and by {@code hashidx verify}. Returns problems instead of throwing, so one run
 * reports as much as it can.
 */
final class Invariants {
    private static final int MAX_PROBLEMS = 100;

    private final Table t;
    private final Header h;
    private final BucketLayout layout;
    private final List<String> problems = new ArrayList<>();
    private final BitSet used;
    private final byte[] key;
    /** Record cells held by the live entries' records (variable-length files). */
    private long recordCells;

    Invariants(Table t) {
        this.t = t;
        this.h = t.h;
        this.layout = t.layout;
        this.used = new BitSet((int) Math.min(Integer.MAX_VALUE, h.allocatedCells));
        this.key = new byte[h.keyWidth];
    }

    List<String> check() {
        checkHeaderCopy("A", Header.COPY_A, h.copyA());
        checkHeaderCopy("B", Header.COPY_B, h.copyB());
        claim(h.journalCell, "journal cell");
        claimRange(h.bucketsCell, h.bucketCount, "bucket array");
        if (h.growing()) {
            claimRange(h.oldBucketsCell, h.oldBucketCount, "old bucket array");
        }
        long entries = 0;
        long overflow = 0;
        long oldOverflow = 0;
        if (h.growing()) {
            for (long b = 0; b < h.oldBucketCount; b++) {
                long cell = h.oldBucketsCell + b;
                boolean evacuated = BucketLayout.isEvacuatedMark(layout.tophash(cell, 0));
                if (b < h.evacuated && !evacuated) {
                    problem("old bucket " + b + " (" + at(cell) + ") is below the evacuation mark " + h.evacuated
                            + " but not evacuated");
                }
                ChainResult r = checkChain(cell, b, true, evacuated, true);
                oldOverflow += r.pages;
                if (!evacuated) {
                    entries += r.entries;
                }
            }
        }
        for (long b = 0; b < h.bucketCount; b++) {
            long cell = h.bucketsCell + b;
            boolean fromOld = h.growing()
                    && !BucketLayout.isEvacuatedMark(layout.tophash(h.oldBucketsCell + oldIndexOf(b), 0));
            // an interrupted copy names the records of its old bucket's entries: they are claimed there
            ChainResult r = checkChain(cell, b, false, false, !fromOld);
            overflow += r.pages;
            if (fromOld) {
                // the old bucket is not evacuated: this destination may only hold an interrupted copy
                continue;
            }
            entries += r.entries;
        }
        if (entries != t.count()) {
            problem("count is " + t.count() + " but " + entries + " entries are reachable (live_count at file offset "
                    + Header.LIVE_COUNT_OFFSET + ")");
        }
        if (overflow != h.overflowPages) {
            problem("header counts " + h.overflowPages + " overflow pages in the bucket array, found " + overflow);
        }
        if (h.growing() && oldOverflow != h.oldOverflowPages) {
            problem("header counts " + h.oldOverflowPages + " overflow pages in the old array, found " + oldOverflow);
        }
        if (h.variable()) {
            checkPendingRecords();
            if (recordCells != h.recordCells) {
                problem("header counts " + h.recordCells + " record cells, the entries' records hold " + recordCells);
            }
        }
        checkFreeList();
        checkRetiredArrays();
        return problems;
    }

    /** Retired arrays (listed in the header or linked, FORMAT.md section 7): their cells and chains, and their counts. */
    private void checkRetiredArrays() {
        for (long[] r : t.space.retiredArraysView()) {
            claimRange(r[0], r[1], "retired array at cell " + r[0]);
            long pages = 0;
            chains:
            for (long b = r[0]; b < r[0] + r[1] && b < h.allocatedCells; b++) {
                for (long prev = b, c = layout.overflowUnchecked(b); c != NONE; prev = c, c = layout.overflowUnchecked(c)) {
                    pages++;
                    if (!claim(c, "overflow page of the retired array at cell " + r[0] + ", linked from " + at(prev))) {
                        break chains;
                    }
                }
            }
            if (pages != r[2]) {
                problem("the retired array at " + at(r[0]) + " is recorded with " + r[2] + " overflow pages, its chains hold "
                        + pages);
            }
        }
    }

    private void checkHeaderCopy(String name, long offset, Header.CopyState copy) {
        if (!copy.valid()) {
            problem("header copy " + name + " at file offset " + offset + " is damaged (bad checksum or fields); "
                    + "the other copy was used, and opening the file read-write rewrites both");
        }
    }

    private long oldIndexOf(long newIndex) {
        return h.oldIndexOf(newIndex);
    }

    private record ChainResult(long entries, long pages) {
    }

    /**
     * A read-only open after a crash in the middle of an overwrite reads the new value from the journal
     * image, whose record the slot does not name yet: it is held all the same.
     */
    private void checkPendingRecords() {
        long[] refs = t.pendingOverwriteRefs();
        long[] images = t.pendingOverwriteImages();
        for (int k = 0; k < refs.length; k++) {
            long image = images[k];
            long imageCell = image / SLOTS;
            int imageSlot = (int) (image % SLOTS);
            if (!layout.outOfLine(imageCell, imageSlot)) {
                continue;
            }
            long cell = refs[k] / SLOTS;
            int slot = (int) (refs[k] % SLOTS);
            boolean copied = layout.outOfLine(cell, slot)
                    && layout.recordOf(cell, slot) == layout.recordOf(imageCell, imageSlot);
            if (!copied) {
                claimRecord(imageCell, imageSlot, "the journal image's record");
            }
        }
        for (long[] r : t.space.recordsLeftToFreeView()) {
            String what = "record cells a crash left to free (read-only open) from " + at(r[0]);
            long n = 0;
            for (long x = r[0]; x != NONE && n < r[1]; x = r[2] == 1 ? layout.overflowUnchecked(x) : NONE) {
                if (!claim(x, what)) {
                    break;
                }
                n++;
            }
            recordCells += n;
        }
    }

    /** Claims the cells of an out-of-line slot's record and checks that their number fits its lengths. */
    private boolean claimRecord(long c, int i, String what) {
        long first = layout.recordOf(c, i);
        long expected = layout.recordCellsFor((long) layout.keyLength(c, i) + layout.valueLength(c, i));
        long n = 0;
        for (long prev = NONE, x = first; x != NONE; prev = x, x = layout.overflowUnchecked(x)) {
            if (!claim(x, what + (prev == NONE ? "" : ", linked from " + at(prev)))) {
                return false;
            }
            n++;
        }
        recordCells += n;
        if (n != expected) {
            problem(what + " starting at " + at(first) + " has " + n + " cells, its lengths need " + expected);
            return false;
        }
        return true;
    }

    private ChainResult checkChain(long bucket, long index, boolean old, boolean evacuated, boolean claimRecords) {
        long entries = 0;
        long pages = 0;
        boolean rest = false;
        Set<ByteBuffer> keys = new HashSet<>();
        for (long prev = NONE, c = bucket; c != NONE; prev = c, c = layout.overflowUnchecked(c)) {
            if (prev != NONE) { // every page after the first, also a link back to the primary page
                pages++;
                if (!claim(c, (old ? "old " : "") + "bucket " + index + " overflow page linked from " + at(prev))) {
                    break;
                }
            }
            if (c == bucket) {
                // the bucket version: odd only while a writer is inside (an evacuated old bucket's word
                // may hold a retired-array record once the growth ends, so it is not looked at)
                // (odd is fine where a read-only open found a killed writer's lane naming it: the next
                // read-write open makes it even)
                if (!evacuated && (layout.version(c) & 1) != 0 && !t.deadOdd(c, layout.version(c))) {
                    problem(at(c) + ": bucket version " + layout.version(c) + " is odd, as if a writer were inside");
                }
            } else if (layout.reservedWord(c) != 0) {
                problem(at(c) + ": reserved word of an overflow page is not zero");
            }
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                if (evacuated) {
                    if (!BucketLayout.isEvacuatedMark(th)) {
                        problem("evacuated old bucket " + index + " has an unmarked slot (tophash " + th + ") in " + at(c));
                    } else if (th != EVACUATED_EMPTY) {
                        checkDestination(c, i, index, th);
                    }
                    continue;
                }
                // an unevacuated old bucket may hold marks left by a crash while marking (FORMAT.md 7.2),
                // written from the end of the chain backwards, so also after an empty-rest slot
                boolean crashMark = old && BucketLayout.isEvacuatedMark(th);
                if (rest && th != EMPTY_REST && !crashMark) {
                    problem("bucket " + index + ": slot after an empty-rest mark is not empty-rest (" + at(c) + ")");
                }
                if (th == EMPTY_REST) {
                    rest = true;
                    continue;
                }
                if (th < MIN_TOPHASH) {
                    if ((th == EVACUATED_X || th == EVACUATED_Y) && old) {
                        // left by a crash while marking: the entry is still here and still counts
                    } else {
                        if (th != BucketLayout.EMPTY_ONE && !crashMark) {
                            problem("bucket " + index + ": unexpected mark " + th + " in " + at(c));
                        }
                        continue;
                    }
                }
                byte[] k;
                long hash;
                if (layout.outOfLine(c, i)) {
                    int kl = layout.keyLength(c, i);
                    int vl = layout.valueLength(c, i);
                    if (kl < 0 || vl < 0 || kl > Options.MAX_VARIABLE_LENGTH || vl > Options.MAX_VARIABLE_LENGTH
                            || !layout.needsRecord(kl, vl)) {
                        problem(at(c) + " slot " + i + ": out-of-line key length " + kl + " or value length " + vl
                                + " is beyond 16 MiB, or fits inline");
                        continue;
                    }
                    if (claimRecords && !claimRecord(c, i, "record of bucket " + index + " (" + at(c) + " slot " + i + ")")) {
                        continue;
                    }
                    k = layout.key(c, i);
                    hash = Hashing.xxh64(k, 0, k.length, h.seed);
                    if (hash != layout.storedHash(c, i)) {
                        problem(at(c) + " slot " + i + ": the stored hash does not match the key in its record");
                    }
                } else {
                    if (layout.valueLength(c, i) > h.valueWidth) {
                        problem(at(c) + " slot " + i + ": value length " + layout.valueLength(c, i) + " exceeds the width");
                        continue;
                    }
                    int len = layout.keyLength(c, i);
                    if (len > h.keyWidth) {
                        problem(at(c) + " slot " + i + ": key length " + len + " exceeds the width");
                        continue;
                    }
                    layout.readKey(c, i, key);
                    k = java.util.Arrays.copyOf(key, len);
                    hash = Hashing.xxh64(key, 0, len, h.seed);
                }
                long expected = Hashing.bucketIndex(hash, old ? h.oldBucketCount : h.bucketCount);
                if (expected != index) {
                    problem(at(c) + " slot " + i + ": key belongs in bucket " + expected + ", found in " + index);
                }
                if (th >= MIN_TOPHASH && th != Hashing.tophash(hash)) {
                    problem(at(c) + " slot " + i + ": tophash " + th + " does not match the key's " + Hashing.tophash(hash));
                }
                if (!keys.add(ByteBuffer.wrap(k))) {
                    problem("bucket " + index + ": duplicate key in " + at(c) + " slot " + i);
                }
                entries++;
            }
        }
        return new ChainResult(entries, pages);
    }

    /** An evacuated slot's mark must name the destination its key hashes to. */
    private void checkDestination(long c, int i, long oldIndex, int mark) {
        long hash;
        if (layout.outOfLine(c, i)) {
            hash = layout.storedHash(c, i); // the record may have been freed since the entry moved on
        } else {
            int len = layout.readKey(c, i, key);
            hash = Hashing.xxh64(key, 0, len, h.seed);
        }
        long dest = Hashing.bucketIndex(hash, h.bucketCount);
        int shift = h.growthShift();
        // the destinations of old bucket b are b * 2^shift and on; X names the lower half of them, Y the upper
        boolean upper = shift > 0 && (dest >>> (shift - 1) & 1) == 1;
        if (dest >>> shift != oldIndex || upper != (mark == EVACUATED_Y)) {
            problem("old bucket " + oldIndex + ", " + at(c) + " slot " + i + ": slot marked " + (mark == EVACUATED_X ? "X" : "Y")
                    + " but its key goes to new bucket " + dest);
        }
    }

    private void checkFreeList() {
        long free = 0;
        long runs = 0;
        for (long r = h.freeRoot; r != NONE; r = layout.freeRunNext(r)) {
            if (r < 0 || r >= h.allocatedCells || ++runs > h.allocatedCells) {
                problem("free list leaves the allocated cells or loops at " + r);
                return;
            }
            long len = layout.freeRunLength(r);
            if (len < 1 || r + len > h.allocatedCells) {
                problem("free run at " + at(r) + " has length " + len + " outside the file");
                return;
            }
            for (long c = r; c < r + len; c++) {
                if (!claim(c, "free run")) {
                    return;
                }
                free++;
                for (long x = layout.overflowUnchecked(c); x != NONE; x = layout.overflowUnchecked(x)) {
                    if (!claim(x, "freed chain page")) {
                        return;
                    }
                    free++;
                }
            }
        }
        if (free != h.freeCells) {
            problem("header counts " + h.freeCells + " free pages, the free list holds " + free);
        }
    }

    private void claimRange(long first, long n, String what) {
        for (long c = first; c < first + n; c++) {
            if (!claim(c, what)) {
                return;
            }
        }
    }

    /** Marks a cell as used by one structure; reports cells outside the file or used twice. */
    private boolean claim(long cell, String what) {
        if (cell < 0 || cell >= h.allocatedCells) {
            problem(what + ": cell " + cell + " is outside the " + h.allocatedCells + " allocated cells");
            return false;
        }
        if (used.get((int) cell)) {
            problem(what + ": " + at(cell) + " is used twice");
            return false;
        }
        used.set((int) cell);
        return true;
    }

    /** "cell C (file offset O)", for a cell below allocated_cells. */
    private String at(long cell) {
        return "cell " + cell + " (file offset " + layout.cellOffset(cell) + ")";
    }

    private void problem(String p) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(p);
        }
    }
}
