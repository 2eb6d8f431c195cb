package io.hashidx.store;

import static io.hashidx.store.BucketLayout.MIN_TOPHASH;
import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.BucketLayout.SLOTS;

import java.util.Arrays;

/** Builds an {@link Inspection} by scanning every bucket, old and new. Read-only. */
final class Inspector {
    private final Table t;
    private final Header h;
    private final BucketLayout layout;
    private final long[] occupancy = new long[SLOTS + 1];
    private long[] chains = new long[4];
    private final long[] tophash = new long[256];
    private long rawBytes;

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
        long presized = layout.endOfCells(1 + Table.bucketsFor(entries) + Table.overflowReserveFor(Table.bucketsFor(entries)));
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
                new Inspection.HeaderCopy(h.copyA.generation(), h.copyA.valid()),
                new Inspection.HeaderCopy(h.copyB.generation(), h.copyB.valid()),
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
                Math.max(0, t.file.size() - presized));
    }

    private long oldIndexOf(long newIndex) {
        return h.oldBucketCount == h.bucketCount ? newIndex : newIndex >>> 1;
    }

    private void scanChain(long bucket) {
        int pages = 0;
        for (long c = bucket; c != NONE; c = layout.overflow(c, pages)) {
            int inPage = 0;
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                if (th >= MIN_TOPHASH) {
                    inPage++;
                    tophash[th]++;
                    rawBytes += layout.keyLength(c, i) + layout.valueLength(c, i);
                }
            }
            if (c == bucket) {
                occupancy[inPage]++;
            } else {
                pages++;
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
