package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
        MemorySegment.copy(key, keyOffset, s, ValueLayout.JAVA_BYTE, p, keyLength);
        MemorySegment.copy(value, valueOffset, s, ValueLayout.JAVA_BYTE, p + keyLength, valueLength);
        return p + keyLength + valueLength - at;
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
