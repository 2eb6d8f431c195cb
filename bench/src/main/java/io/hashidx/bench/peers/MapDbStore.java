package io.hashidx.bench.peers;

import io.hashidx.bench.KeyValueStore;
import java.nio.file.Path;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

/**
 * MapDB's {@code HTreeMap} in a memory-mapped file, with the settings its performance chapter
 * recommends: {@code fileMmapEnableIfSupported()}, {@code fileMmapPreclearDisable()},
 * {@code cleanerHackEnable()} (unmap on close), no transactions (the default: not crash-safe), and
 * {@code byte[]} serializers with values stored inline in the tree. Presizing is
 * {@code allocateStartSize} (80 bytes per expected entry). {@link #sync()} commits and fsyncs the file.
 */
public final class MapDbStore implements KeyValueStore {
    /** The database file inside a store directory. */
    public static final String FILE = "map.db";
    private static final long START_BYTES_PER_ENTRY = 80;

    private final DB db;
    private final HTreeMap<byte[], byte[]> map;
    private final Path file;

    private MapDbStore(DB db, HTreeMap<byte[], byte[]> map, Path file) {
        this.db = db;
        this.map = map;
        this.file = file;
    }

    /** Creates or opens the file in {@code dir}; {@code expectedEntries} > 0 presizes a new one. */
    public static MapDbStore open(Path dir, long expectedEntries) {
        Path file = dir.resolve(FILE);
        DBMaker.Maker maker = DBMaker.fileDB(file.toFile())
                .fileMmapEnableIfSupported()
                .fileMmapPreclearDisable()
                .cleanerHackEnable();
        if (expectedEntries > 0) {
            maker = maker.allocateStartSize(expectedEntries * START_BYTES_PER_ENTRY);
        }
        DB db = maker.make();
        HTreeMap<byte[], byte[]> map = db.hashMap("map", Serializer.BYTE_ARRAY, Serializer.BYTE_ARRAY)
                .valueInline()
                .createOrOpen();
        return new MapDbStore(db, map, file);
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
        map.put(key, value);
    }

    @Override
    public void sync() {
        db.commit();
        FileSync.force(file);
    }

    @Override
    public void close() {
        db.close();
    }
}
