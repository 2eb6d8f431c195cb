package io.hashidx.bench.peers;

import io.hashidx.bench.KeyValueStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * Chronicle Map persisted to a file, configured as its tutorial says for fixed-size keys and values:
 * {@code constantKeySizeBySample} / {@code constantValueSizeBySample} and {@code entries(n)}, which
 * it requires (it cannot start small and grow: the insert-from-empty workloads do not apply).
 * Gets use {@code getUsing} with the caller's buffer so the value array is reused. Chronicle Map has
 * no sync call; {@link #sync()} fsyncs the mapped file.
 */
public final class ChronicleMapStore implements KeyValueStore {
    /** The map file inside a store directory. */
    public static final String FILE = "map.cm3";

    private final ChronicleMap<byte[], byte[]> map;
    private final Path file;

    private ChronicleMapStore(ChronicleMap<byte[], byte[]> map, Path file) {
        this.map = map;
        this.file = file;
    }

    private static ChronicleMapBuilder<byte[], byte[]> builder(long entries) {
        return ChronicleMap.of(byte[].class, byte[].class)
                .name("hashidx-bench")
                .constantKeySizeBySample(new byte[16])
                .constantValueSizeBySample(new byte[16])
                .entries(entries);
    }

    public static ChronicleMapStore create(Path dir, long expectedEntries) {
        if (expectedEntries <= 0) {
            throw new UnsupportedOperationException("Chronicle Map must be told its entries() up front; it does not grow from empty");
        }
        return open(dir, expectedEntries);
    }

    /** Creates the file, or opens it when it exists (Chronicle's {@code createPersistedTo}). */
    public static ChronicleMapStore open(Path dir, long entries) {
        Path file = dir.resolve(FILE);
        try {
            return new ChronicleMapStore(builder(Math.max(entries, 1)).createPersistedTo(file.toFile()), file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        byte[] v = map.getUsing(key, value);
        if (v == null) {
            return false;
        }
        if (v != value) {
            System.arraycopy(v, 0, value, 0, v.length);
        }
        return true;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        map.put(key, value);
    }

    @Override
    public void sync() {
        FileSync.force(file);
    }

    @Override
    public void close() {
        map.close();
    }
}
