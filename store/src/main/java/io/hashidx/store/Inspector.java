package io.hashidx.store;

import static io.hashidx.store.BucketLayout.MIN_TOPHASH;
import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.BucketLayout.SLOTS;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds an {@link Inspection} by scanning every bucket, old and new. Read-only. A diagnostic: an
 * overflow link outside the file or a chain that cycles ends that chain's scan instead of failing
 * ({@link #inspectBucket} names the link, verify lists it); operations throw CORRUPT for them.
 */
final class Inspector {
    private final Table t;
    private final Header h;
    private final BucketLayout layout;
    private final long[] occupancy = new long[SLOTS + 1];
    private long[] chains = new long[4];
    private final long[] tophash = new long[256];
    private long rawBytes;
    private long recordBytes;

    Inspector(Table t) {
        this.t = t;
        this.h = t.h;
        this.layout = t.layout;
    }

    Inspection inspect() {
        long evacuated = 0;
        boolean growing = h.growing();
        if (growing) {
            for (long b = 0; b < h.oldBucketCount; b++) {
                long old = h.oldBucketsCell + b;
                if (BucketLayout.isEvacuatedMark(layout.tophash(old, 0))) {
                    evacuated++;
                } else {
                    scanChain(old);
                }
            }
        }
        for (long b = 0; b < h.bucketCount; b++) {
            if (growing && !BucketLayout.isEvacuatedMark(layout.tophash(h.oldBucketsCell + oldIndexOf(b), 0))) {
                continue; // its entries are still in the old bucket, counted above
            }
            scanChain(h.bucketsCell + b);
        }
        long entries = t.count();
        // a presized file holds the same records (none in a fixed-width file) and no free cells
        long presized = layout.endOfCells(1 + Table.bucketsFor(entries) + Table.overflowReserveFor(Table.bucketsFor(entries))
                + h.recordCells);
        int last = chains.length - 1;
        while (last > 0 && chains[last] == 0) {
            last--;
        }
        return new Inspection(
                h == null ? "" : t.file.path().toString(),
                t.file.size(),
                h.readVersion,
                h.writeVersion,
                h.keyWidth,
                h.valueWidth,
                h.seed,
                new Inspection.HeaderCopy(h.copyA().generation(), h.copyA().valid()),
                new Inspection.HeaderCopy(h.copyB().generation(), h.copyB().valid()),
                entries,
                h.bucketCount,
                h.doublings,
                h.sameSizeGrowths,
                new Inspection.Growth(growing, growing && h.oldBucketCount == h.bucketCount, h.oldBucketCount,
                        h.evacuated, evacuated, h.oldOverflowPages),
                (double) entries / h.bucketCount,
                h.overflowPages,
                h.freeCells,
                t.space.retiredCells(),
                h.allocatedCells,
                layout.stride,
                rawBytes,
                occupancy,
                Arrays.copyOf(chains, last + 1),
                tophash,
                chiSquare(),
                Math.max(0, t.file.size() - presized),
                h.variable(),
                h.recordCells,
                recordBytes,
                Math.max(0, h.recordCells * layout.recordCapacity - recordBytes));
    }

    private long oldIndexOf(long newIndex) {
        return h.oldIndexOf(newIndex);
    }

    /** One bucket of the current array and its chain, and its old bucket while growing. */
    BucketView inspectBucket(long bucket) {
        boolean growing = h.growing();
        long old = growing ? oldIndexOf(bucket) : -1;
        boolean oldEvacuated = !growing || BucketLayout.isEvacuatedMark(layout.tophash(h.oldBucketsCell + old, 0));
        List<String> problems = new ArrayList<>();
        List<BucketView.Page> pages = pages(h.bucketsCell + bucket, problems);
        List<BucketView.Page> oldPages = growing && !oldEvacuated ? pages(h.oldBucketsCell + old, problems) : List.of();
        return new BucketView(bucket, h.bucketCount, growing, old, oldEvacuated, pages, oldPages,
                problems.isEmpty() ? null : String.join("; ", problems));
    }

    private List<BucketView.Page> pages(long first, List<String> problems) {
        List<BucketView.Page> pages = new ArrayList<>();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        long c = first;
        while (c != NONE) {
            if (!seen.add(c)) {
                BucketView.Page last = pages.getLast();
                problems.add("cell " + last.cell() + " (file offset " + last.fileOffset() + ") links back to cell " + c
                        + ", already in the chain from cell " + first + ": its overflow links form a cycle; stopped");
                break;
            }
            if (pages.size() >= h.allocatedCells) {
                problems.add("chain from cell " + first + " has more pages than the " + h.allocatedCells
                        + " allocated cells: its overflow links form a cycle; stopped");
                break;
            }
            long next = layout.overflowUnchecked(c);
            List<BucketView.Slot> slots = new ArrayList<>(SLOTS);
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                boolean hasEntry = th >= MIN_TOPHASH || th == BucketLayout.EVACUATED_X || th == BucketLayout.EVACUATED_Y;
                byte[] key = null;
                byte[] value = null;
                if (hasEntry && layout.outOfLine(c, i)) {
                    if (th >= MIN_TOPHASH) { // a moved-on entry's record may have been freed since
                        try {
                            key = layout.key(c, i);
                            value = layout.value(c, i);
                        } catch (HashIndexException.FileFormat e) {
                            problems.add("cell " + c + " slot " + i + ": " + e.getMessage());
                        }
                    }
                } else if (hasEntry && layout.keyLength(c, i) <= h.keyWidth && layout.valueLength(c, i) <= h.valueWidth
                        && layout.keyLength(c, i) >= 0 && layout.valueLength(c, i) >= 0) {
                    key = layout.key(c, i);
                    value = layout.value(c, i);
                }
                slots.add(new BucketView.Slot(i, th, stateName(th), key, value));
            }
            pages.add(new BucketView.Page(c, layout.cellOffset(c), next, slots));
            if (next != NONE && (next < 0 || next >= h.allocatedCells)) {
                problems.add("cell " + c + " (file offset " + layout.cellOffset(c) + ") links to cell " + next
                        + ", outside the " + h.allocatedCells + " allocated cells; stopped");
                break;
            }
            c = next;
        }
        return pages;
    }

    static String stateName(int tophash) {
        return switch (tophash) {
            case BucketLayout.EMPTY_REST -> "empty_rest";
            case BucketLayout.EMPTY_ONE -> "empty_one";
            case BucketLayout.EVACUATED_X -> "evacuated_x";
            case BucketLayout.EVACUATED_Y -> "evacuated_y";
            case BucketLayout.EVACUATED_EMPTY -> "evacuated_empty";
            default -> "tophash";
        };
    }

    private void scanChain(long bucket) {
        // a link outside the file or a cycle ends the walk: verify() names such problems, the summary
        // counts what it could reach
        int pages = -1; // the bucket itself is page 0 of its chain
        for (long c = bucket; c != NONE && c >= 0 && c < h.allocatedCells && pages < h.allocatedCells;
                c = layout.overflowUnchecked(c)) {
            pages++;
            int inPage = 0;
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                if (th >= MIN_TOPHASH) {
                    inPage++;
                    tophash[th]++;
                    long entryBytes = (long) layout.keyLength(c, i) + layout.valueLength(c, i);
                    rawBytes += entryBytes;
                    if (layout.outOfLine(c, i)) {
                        recordBytes += entryBytes;
                    }
                }
            }
            if (pages == 0) {
                occupancy[inPage]++;
            }
        }
        if (pages >= chains.length) {
            chains = Arrays.copyOf(chains, pages + 1);
        }
        chains[pages]++;
    }

    private double chiSquare() {
        long total = 0;
        for (int v = MIN_TOPHASH; v < 256; v++) {
            total += tophash[v];
        }
        if (total == 0) {
            return 0;
        }
        // low hash bytes 0..4 are moved up by MIN_TOPHASH, so values 5..9 are twice as likely
        double chi = 0;
        for (int v = MIN_TOPHASH; v < 256; v++) {
            double expected = total * (v < 2 * MIN_TOPHASH ? 2.0 : 1.0) / 256;
            double d = tophash[v] - expected;
            chi += d * d / expected;
        }
        return chi;
    }
}
