package io.hashidx.bench.peers;

import io.hashidx.bench.KeyValueStore;
import it.unimi.dsi.fastutil.bytes.ByteArrays;
import it.unimi.dsi.fastutil.objects.Object2ObjectOpenCustomHashMap;

/**
 * fastutil's open-addressing map with {@code byte[]} keys compared by content through
 * {@link ByteArrays#HASH_STRATEGY}, the library's documented way to key a map by arrays (no wrapper
 * object per lookup). Presized with the expected count, otherwise it grows by doubling. In heap,
 * not persistent.
 */
public final class FastutilStore implements KeyValueStore {
    private final Object2ObjectOpenCustomHashMap<byte[], byte[]> map;

    public FastutilStore(long expectedEntries) {
        map = expectedEntries > 0
                ? new Object2ObjectOpenCustomHashMap<>(Math.toIntExact(expectedEntries), ByteArrays.HASH_STRATEGY)
                : new Object2ObjectOpenCustomHashMap<>(ByteArrays.HASH_STRATEGY);
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        byte[] v = map.get(key);
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, value, 0, v.length);
        return true;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        map.put(key.clone(), value.clone());
    }

    @Override
    public void sync() {
    }

    @Override
    public void close() {
        map.clear();
    }
}
