package io.hashidx.bench.peers;

import io.hashidx.bench.KeyValueStore;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code java.util.HashMap}, the in-heap reference. A 16-byte key is held as a record of two longs
 * (equal by content, unlike {@code byte[]}); values are copied {@code byte[]}s. Presized with
 * {@code HashMap.newHashMap(n)}, otherwise it starts at the default capacity and resizes by doubling,
 * rehashing everything at once. Not persistent; its figures are the practical limit for lookups.
 */
public final class HashMapStore implements KeyValueStore {
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** A 16-byte key by content. */
    record Key(long low, long high) {
        static Key of(byte[] key) {
            return new Key((long) LONG_LE.get(key, 0), (long) LONG_LE.get(key, 8));
        }
    }

    private final Map<Key, byte[]> map;

    public HashMapStore(long expectedEntries) {
        map = expectedEntries > 0 ? HashMap.newHashMap(Math.toIntExact(expectedEntries)) : new HashMap<>();
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        byte[] v = map.get(Key.of(key));
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, value, 0, v.length);
        return true;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        map.put(Key.of(key), value.clone());
    }

    @Override
    public void sync() {
    }

    @Override
    public void close() {
        map.clear();
    }
}
