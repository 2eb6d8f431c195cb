package io.hashidx.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The data every peer is loaded with: entry {@code i} has a 16-byte key and a 16-byte value, both
 * computed from {@code i}, so no benchmark holds millions of keys in memory and every peer sees the
 * same bytes.
 *
 * <p>{@code h = mix(i)} is a bijection of the 64-bit integers (the finalizer of MurmurHash3), so
 * distinct indexes give distinct keys: entries {@code 0 .. n-1} are the hits, {@code n .. 2n-1} are
 * keys that are certainly absent. The key is {@code h} followed by {@code mix(h ^ C)} (little-endian),
 * so the key bytes look random to every store, and a key is determined by its first 8 bytes, which
 * lets a sorted load (LMDB's {@code MDB_APPEND}) sort plain {@code long}s.
 */
public final class Keys {
    /** Key width in bytes, as the workloads require. */
    public static final int KEY_BYTES = 16;
    /** Value width in bytes. */
    public static final int VALUE_BYTES = 16;

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long SECOND_HALF = 0x9E3779B97F4A7C15L;

    private Keys() {
    }

    /** MurmurHash3's 64-bit finalizer: a bijection, so distinct inputs give distinct outputs. */
    public static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xFF51AFD7ED558CCDL;
        x ^= x >>> 33;
        x *= 0xC4CEB9FE1A85EC53L;
        x ^= x >>> 33;
        return x;
    }

    /** The first 8 bytes of key {@code i}, as a little-endian long. */
    public static long head(long i) {
        return mix(i);
    }

    /** Writes key {@code i} into {@code key[0..16)}. */
    public static void key(long i, byte[] key) {
        keyFromHead(mix(i), key);
    }

    /** Writes the key whose first 8 bytes are {@code head} into {@code key[0..16)}. */
    public static void keyFromHead(long head, byte[] key) {
        LONG_LE.set(key, 0, head);
        LONG_LE.set(key, 8, mix(head ^ SECOND_HALF));
    }

    /** Writes the value of key {@code i} into {@code value[0..16)}; {@code version} changes it for overwrites. */
    public static void value(long i, long version, byte[] value) {
        valueFromHead(mix(i), version, value);
    }

    /** The value stored under the key whose first 8 bytes are {@code head}. */
    public static void valueFromHead(long head, long version, byte[] value) {
        LONG_LE.set(value, 0, ~head);
        LONG_LE.set(value, 8, version);
    }

    /** A fresh 16-byte key array holding key {@code i}. */
    public static byte[] newKey(long i) {
        byte[] k = new byte[KEY_BYTES];
        key(i, k);
        return k;
    }

    /** A fresh 16-byte value array holding the value of key {@code i}. */
    public static byte[] newValue(long i) {
        byte[] v = new byte[VALUE_BYTES];
        value(i, 0, v);
        return v;
    }

    /** True when {@code value} holds the value that key {@code i} was loaded with (any version). */
    public static boolean isValueOf(long i, byte[] value) {
        return (long) LONG_LE.get(value, 0) == ~mix(i);
    }

    /**
     * The heads of keys {@code 0 .. n-1}, sorted in the byte order of their keys (unsigned
     * lexicographic, as LMDB and RocksDB compare by default): the order a sorted bulk load appends in.
     */
    public static long[] headsInKeyOrder(int n) {
        long[] order = new long[n];
        for (int i = 0; i < n; i++) {
            // big-endian view of the little-endian head, biased so a signed sort is an unsigned one
            order[i] = Long.reverseBytes(mix(i)) ^ Long.MIN_VALUE;
        }
        Arrays.sort(order);
        for (int i = 0; i < n; i++) {
            order[i] = Long.reverseBytes(order[i] ^ Long.MIN_VALUE);
        }
        return order;
    }
}
