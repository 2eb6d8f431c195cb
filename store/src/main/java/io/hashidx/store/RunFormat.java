package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One record of the bulk builder's temporary runs, in memory and in run files: the key and value
 * lengths as unsigned LEB128 varints (one byte below 128), then the key and value bytes, with no
 * padding. The hash is not stored: the runs are written and read once each, and hashing a key again
 * costs less than moving 8 more bytes per record through the disk twice. Run files are private to
 * one build, so this format is not part of FORMAT.md.
 *
 * <pre>
 *  | key length (1-3 bytes) | value length (1-4 bytes) | key bytes | value bytes |
 * </pre>
 */
final class RunFormat {
    /** Bytes of a record with a key of {@code keyLength} and a value of {@code valueLength} bytes. */
    static long size(int keyLength, int valueLength) {
        return varintSize(keyLength) + varintSize(valueLength) + (long) keyLength + valueLength;
    }

    private static int varintSize(int v) {
        return v < 1 << 7 ? 1 : v < 1 << 14 ? 2 : v < 1 << 21 ? 3 : 4;
    }

    /** Writes a record at {@code at}; returns its size. */
    static long write(MemorySegment s, long at, byte[] key, byte[] value) {
        return write(s, at, key, 0, key.length, value, 0, value.length);
    }

    /** Writes a record of slices of {@code key} and {@code value} at {@code at}; returns its size. */
    static long write(MemorySegment s, long at, byte[] key, int keyOffset, int keyLength, byte[] value,
                      int valueOffset, int valueLength) {
        long p = writeVarint(s, at, keyLength);
        p = writeVarint(s, p, valueLength);
        copy(key, keyOffset, s, p, keyLength);
        copy(value, valueOffset, s, p + keyLength, valueLength);
        return p + keyLength + valueLength - at;
    }

    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_U = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Copies {@code n} bytes into the segment: eight at a time when short (most keys and values), else in bulk. */
    private static void copy(byte[] from, int offset, MemorySegment to, long at, int n) {
        if (n > 64) {
            MemorySegment.copy(from, offset, to, ValueLayout.JAVA_BYTE, at, n);
            return;
        }
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            to.set(LONG_U, at + i, (long) ARRAY_LONG.get(from, offset + i));
        }
        for (; i < n; i++) {
            to.set(ValueLayout.JAVA_BYTE, at + i, from[offset + i]);
        }
    }

    private static long writeVarint(MemorySegment s, long at, int v) {
        while (v >= 0x80) {
            s.set(ValueLayout.JAVA_BYTE, at++, (byte) (v | 0x80));
            v >>>= 7;
        }
        s.set(ValueLayout.JAVA_BYTE, at++, (byte) v);
        return at;
    }

    /**
     * The record at {@code at}, decoded: {@link #keyAt}, {@link #keyLength}, {@link #valueAt},
     * {@link #valueLength} and {@link #end} (where the next record starts). One instance per thread.
     */
    static final class Cursor {
        long keyAt;
        int keyLength;
        long valueAt;
        int valueLength;
        long end;

        /** Decodes the record at {@code at} and returns this. */
        Cursor read(MemorySegment s, long at) {
            long p = at;
            int k = 0;
            for (int shift = 0; ; shift += 7) {
                byte b = s.get(ValueLayout.JAVA_BYTE, p++);
                k |= (b & 0x7F) << shift;
                if (b >= 0) {
                    break;
                }
            }
            int v = 0;
            for (int shift = 0; ; shift += 7) {
                byte b = s.get(ValueLayout.JAVA_BYTE, p++);
                v |= (b & 0x7F) << shift;
                if (b >= 0) {
                    break;
                }
            }
            keyAt = p;
            keyLength = k;
            valueAt = p + k;
            valueLength = v;
            end = valueAt + v;
            return this;
        }
    }

    private RunFormat() {
    }
}
