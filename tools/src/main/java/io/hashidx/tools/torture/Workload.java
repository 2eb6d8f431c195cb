package io.hashidx.tools.torture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The keys, values and operation mix of a torture campaign, shared by the child that runs them and
 * the parent that checks them: key {@code id} and the value that operation number {@code op} put
 * under it are computed, never stored, so the parent's model is one number per key.
 */
final class Workload {
    /** Smallest key width: a key starts with its 8-byte id. */
    static final int MIN_KEY_WIDTH = 8;
    /** Out of 100 operations: puts of a new key below this, overwrites below {@link #OVERWRITE}, removes above. */
    static final int PUT_NEW = 45;
    static final int OVERWRITE = 80;

    private final int keyWidth;
    private final int valueWidth;

    Workload(int keyWidth, int valueWidth) {
        if (keyWidth < MIN_KEY_WIDTH) {
            throw new IllegalArgumentException("key width " + keyWidth + " is below " + MIN_KEY_WIDTH);
        }
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
    }

    int keyWidth() {
        return keyWidth;
    }

    int valueWidth() {
        return valueWidth;
    }

    /** Key {@code id}: the id little-endian, then filler bytes derived from it up to the key width. */
    byte[] key(long id) {
        byte[] k = new byte[keyWidth];
        ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).putLong(0, id);
        long mix = id * 0x9E3779B97F4A7C15L;
        for (int i = MIN_KEY_WIDTH; i < keyWidth; i++) {
            k[i] = (byte) (mix >>> ((i & 7) * 8));
        }
        return k;
    }

    /** The id of a key made by {@link #key(long)}, or -1 when {@code key} is not one. */
    long id(byte[] key) {
        if (key.length != keyWidth) {
            return -1;
        }
        long id = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return id >= 0 && Arrays.equals(key, key(id)) ? id : -1;
    }

    /** The value operation {@code op} puts under key {@code id}: 0..valueWidth bytes, derived from both. */
    byte[] value(long id, long op) {
        int length = (int) Math.floorMod(op * 7 + id, valueWidth + 1L);
        byte[] v = new byte[length];
        SplittableRandom bytes = new SplittableRandom(op * 31 + id);
        bytes.nextBytes(v);
        return v;
    }
}
