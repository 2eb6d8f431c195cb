package io.hashidx.bench.peers;

import io.hashidx.bench.Keys;
import io.hashidx.bench.KeyValueStore;
import java.nio.file.Path;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * RocksDB through rocksdbjni, tuned as its "basic tuning" guide says for a point-lookup-only
 * workload: {@code optimizeForPointLookup(64 MiB block cache)} (hash index and bloom filter) and
 * {@code setIncreaseParallelism(2)} (this machine's cores). Puts go through the write-ahead log
 * without fsync (survive a process crash, like hashidx's). Gets copy into the caller's buffer.
 * The bulk load follows the bulk-loading advice: the database is opened with
 * {@code prepareForBulkLoad()}, writes go in 10,000-entry batches without the WAL, then a flush and
 * a full compaction. {@link #sync()} flushes the memtable and syncs the WAL.
 */
public final class RocksDbStore implements KeyValueStore {
    private static final int BATCH = 10_000;

    static {
        RocksDB.loadLibrary();
    }

    private final Options options;
    private final RocksDB db;
    private final WriteOptions writeOptions = new WriteOptions();

    private RocksDbStore(Options options, RocksDB db) {
        this.options = options;
        this.db = db;
    }

    /** Opens (creating if needed) the database in {@code dir}; {@code bulkLoad} selects the bulk-load options. */
    public static RocksDbStore open(Path dir, boolean bulkLoad) {
        Options options = new Options()
                .setCreateIfMissing(true)
                .optimizeForPointLookup(64)
                .setIncreaseParallelism(2);
        if (bulkLoad) {
            options.prepareForBulkLoad();
        }
        try {
            return new RocksDbStore(options, RocksDB.open(options, dir.toString()));
        } catch (RocksDBException e) {
            options.close();
            throw new IllegalStateException("cannot open RocksDB in " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        try {
            return db.get(key, value) != RocksDB.NOT_FOUND;
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        try {
            db.put(writeOptions, key, value);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void bulkLoad(int n) {
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        try (WriteOptions noWal = new WriteOptions().setDisableWAL(true);
             WriteBatch batch = new WriteBatch()) {
            for (int i = 0; i < n; i++) {
                Keys.key(i, key);
                Keys.value(i, 0, value);
                batch.put(key, value);
                if (batch.count() == BATCH) {
                    db.write(noWal, batch);
                    batch.clear();
                }
            }
            if (batch.count() > 0) {
                db.write(noWal, batch);
            }
            try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
                db.flush(flush);
            }
            db.compactRange();
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void sync() {
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            db.flush(flush);
            db.syncWal();
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        writeOptions.close();
        db.close();
        options.close();
    }
}
