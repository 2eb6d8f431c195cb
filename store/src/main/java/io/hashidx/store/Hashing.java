package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The seeded 64-bit hash of keys, and what is derived from it. Frozen by the file format
 * (FORMAT.md, "Hash function"): changing anything here changes where entries live in existing files.
 *
 * <p>The hash is XXH64 (Yann Collet's xxHash, 64-bit variant) with the file's seed. Two things are
 * derived from it:
 * <ul>
 *   <li>the bucket index by multiply-shift range reduction, {@code floor(hash * n / 2^64)}, which uses
 *       the high bits and works for any bucket count {@code n}; doubling splits bucket b into 2b and 2b+1;
 *   <li>the tophash byte from the low 8 bits (the high bits already chose the bucket, so they would be
 *       nearly equal within one bucket), moved above the reserved marks.
 * </ul>
 */
final class Hashing {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private Hashing() {
    }

    static long hash(byte[] key, long seed) {
        return xxh64(key, 0, key.length, seed);
    }

    /** XXH64 of {@code len} bytes of {@code a} from {@code off}. */
    static long xxh64(byte[] a, int off, int len, long seed) {
        int p = off;
        int end = off + len;
        long h;
        if (len >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            int limit = end - 32;
            do {
                v1 = round(v1, (long) LONG_LE.get(a, p));
                v2 = round(v2, (long) LONG_LE.get(a, p + 8));
                v3 = round(v3, (long) LONG_LE.get(a, p + 16));
                v4 = round(v4, (long) LONG_LE.get(a, p + 24));
                p += 32;
            } while (p <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = seed + P5;
        }
        h += len;
        while (p + 8 <= end) {
            h ^= round(0, (long) LONG_LE.get(a, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= end) {
            h ^= ((int) INT_LE.get(a, p) & 0xFFFF_FFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < end) {
            h ^= (a[p] & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    /**
     * XXH64 of {@code len} bytes of {@code s} from {@code off}, as {@link #xxh64(byte[], int, int, long)}
     * computes it for the same bytes: the bulk builder hashes records where they lie, without a copy.
     */
    static long xxh64(MemorySegment s, long off, int len, long seed) {
        long p = off;
        long end = off + len;
        long h;
        if (len >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            long limit = end - 32;
            do {
                v1 = round(v1, s.get(LONG_U, p));
                v2 = round(v2, s.get(LONG_U, p + 8));
                v3 = round(v3, s.get(LONG_U, p + 16));
                v4 = round(v4, s.get(LONG_U, p + 24));
                p += 32;
            } while (p <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = seed + P5;
        }
        h += len;
        while (p + 8 <= end) {
            h ^= round(0, s.get(LONG_U, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= end) {
            h ^= (s.get(INT_U, p) & 0xFFFF_FFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < end) {
            h ^= (s.get(ValueLayout.JAVA_BYTE, p) & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static final ValueLayout.OfLong LONG_U = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_U = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static long round(long acc, long input) {
        acc += input * P2;
        acc = Long.rotateLeft(acc, 31);
        return acc * P1;
    }

    private static long mergeRound(long acc, long val) {
        acc ^= round(0, val);
        return acc * P1 + P4;
    }

    /** Bucket index of {@code hash} in an array of {@code buckets} buckets: high 64 bits of hash * buckets. */
    static long bucketIndex(long hash, long buckets) {
        return Math.unsignedMultiplyHigh(hash, buckets);
    }

    /** The tophash byte (as an int in MIN_TOPHASH..255) of {@code hash}. */
    static int tophash(long hash) {
        int top = (int) (hash & 0xFF);
        return top < BucketLayout.MIN_TOPHASH ? top + BucketLayout.MIN_TOPHASH : top;
    }
}
