package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One record of the bulk builder's temporary runs, in memory and in run files: the key's hash, then
 * the key and value lengths, then the key and value bytes, with no padding. Lengths take 1, 2 or 4
 * bytes as in a cell ({@link BucketLayout#lengthBytes}), sized for the largest key and value the
 * builder accepts. Run files are private to one build, so this format is not part of FORMAT.md.
 *
 * <pre>
 *  offset 0          8                       8 + kl           8 + kl + vl
 *  +-----------------+-----------------------+----------------+-----------+-------------+
 *  | hash u64        | key length (kl bytes) | value length   | key bytes | value bytes |
 *  +-----------------+-----------------------+----------------+-----------+-------------+
 * </pre>
 */
final class RunFormat {
    static final int HASH_OFFSET = 0;
    static final int KEY_LENGTH_OFFSET = HASH_OFFSET + 8;

    private final int keyLengthBytes;
    private final int valueLengthBytes;
    private final int valueLengthOffset;
    private final int keyOffset;

    RunFormat(int keyLimit, int valueLimit) {
        this.keyLengthBytes = BucketLayout.lengthBytes(keyLimit);
        this.valueLengthBytes = BucketLayout.lengthBytes(valueLimit);
        this.valueLengthOffset = KEY_LENGTH_OFFSET + keyLengthBytes;
        this.keyOffset = valueLengthOffset + valueLengthBytes;
    }

    /** Bytes of a record with a key of {@code keyLength} and a value of {@code valueLength} bytes. */
    long size(int keyLength, int valueLength) {
        return (long) keyOffset + keyLength + valueLength;
    }

    /** Writes a record at {@code at}; returns its size. */
    long write(MemorySegment s, long at, long hash, byte[] key, byte[] value) {
        s.set(BucketLayout.LONG_U, at + HASH_OFFSET, hash);
        writeLength(s, at + KEY_LENGTH_OFFSET, keyLengthBytes, key.length);
        writeLength(s, at + valueLengthOffset, valueLengthBytes, value.length);
        MemorySegment.copy(key, 0, s, ValueLayout.JAVA_BYTE, at + keyOffset, key.length);
        MemorySegment.copy(value, 0, s, ValueLayout.JAVA_BYTE, at + keyOffset + key.length, value.length);
        return size(key.length, value.length);
    }

    long hash(MemorySegment s, long at) {
        return s.get(BucketLayout.LONG_U, at + HASH_OFFSET);
    }

    int keyLength(MemorySegment s, long at) {
        return readLength(s, at + KEY_LENGTH_OFFSET, keyLengthBytes);
    }

    int valueLength(MemorySegment s, long at) {
        return readLength(s, at + valueLengthOffset, valueLengthBytes);
    }

    long keyAt(long at) {
        return at + keyOffset;
    }

    /** Offset of the value bytes of the record at {@code at}, whose key is {@code keyLength} bytes. */
    long valueAt(long at, int keyLength) {
        return at + keyOffset + keyLength;
    }

    /** Size of the record at {@code at}. */
    long sizeAt(MemorySegment s, long at) {
        return size(keyLength(s, at), valueLength(s, at));
    }

    /** Whether the records at {@code a} and {@code b} (possibly in different segments) have the same key. */
    boolean sameKey(MemorySegment s, long a, long b) {
        int length = keyLength(s, a);
        if (length != keyLength(s, b)) {
            return false;
        }
        return MemorySegment.mismatch(s, keyAt(a), keyAt(a) + length, s, keyAt(b), keyAt(b) + length) < 0;
    }

    private static int readLength(MemorySegment s, long at, int bytes) {
        return switch (bytes) {
            case 1 -> s.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case 2 -> s.get(BucketLayout.SHORT_U, at) & 0xFFFF;
            default -> s.get(BucketLayout.INT_U, at);
        };
    }

    private static void writeLength(MemorySegment s, long at, int bytes, int length) {
        switch (bytes) {
            case 1 -> s.set(ValueLayout.JAVA_BYTE, at, (byte) length);
            case 2 -> s.set(BucketLayout.SHORT_U, at, (short) length);
            default -> s.set(BucketLayout.INT_U, at, length);
        }
    }
}
