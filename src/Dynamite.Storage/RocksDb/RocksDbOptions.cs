using RocksDbSharp;

namespace Dynamite.Storage.RocksDb;

/// <summary>
/// The RocksDB settings the engine opens its database with, and why each differs from RocksDB's default.
/// The option objects hold native handles freed by their finalizers; the opened database keeps references to
/// them (and they to the block cache), so nothing here needs disposing.
/// </summary>
internal static class RocksDbOptions
{
    /// <summary>One LRU block cache shared by every column family: uncompressed data, index and filter blocks.</summary>
    public const ulong BlockCacheBytes = 64UL << 20;

    /// <summary>
    /// Values at least this long go to blob files instead of the LSM tree, so compactions move a small pointer
    /// rather than rewriting large values at every level (RocksDB's integrated BlobDB, "key-value separation").
    /// </summary>
    public const ulong MinBlobSize = 4096;

    /// <summary>Full-key bloom filter: about 1% false positives, so a read of an absent key rarely touches a data block.</summary>
    private const int BloomBitsPerKey = 10;

    /// <summary>
    /// The WAL is shared by the column families; a family whose memtable rarely fills (meta, expiry) would keep
    /// old WAL files alive. Past this total RocksDB flushes the oldest memtables so the WAL can be dropped.
    /// </summary>
    private const ulong MaxTotalWalBytes = 256UL << 20;

    /// <summary>
    /// The data and element families' memtable, a quarter of RocksDB's 64 MiB default. Keys are hashes, so every write
    /// inserts at a random place in the memtable's skip list, and each level of the search is a cache miss once the
    /// list outgrows the cache; on this 2-core machine's 8 MiB L3 that insert was a third of the writer thread's time.
    /// A smaller memtable has fewer such levels: on 3 nodes at N=3, W=2 (800k SET of 100 B over 100k keys) 16 MiB took
    /// server CPU per SET from 6.3 to 5.6 CPU-seconds per 100k and SET from 23.6k to 26.9k/s; 4 and 8 MiB gained less,
    /// as flushes and compactions then grow.
    /// </summary>
    private const ulong DataWriteBufferBytes = 16UL << 20;

    /// <summary>The small families (counters, expiry index) need far less than the 64 MiB default memtable.</summary>
    private const ulong SmallFamilyWriteBufferBytes = 8UL << 20;

    public static DbOptions Database() => new DbOptions()
        .SetCreateIfMissing(true)
        .SetCreateMissingColumnFamilies(true)

        // Flushes and compactions run in the background; two jobs at least, so a flush never waits on a compaction.
        .IncreaseParallelism(Math.Max(2, Environment.ProcessorCount))
        .SetMaxTotalWalSize(MaxTotalWalBytes)

        // RocksDB's own diagnostic LOG files, in the data directory: bounded to a few small files.
        .SetMaxLogFileSize(16UL << 20)
        .SetKeepLogFileNum(3);

    /// <summary>The data (default), expiry-index, meta, elements and index column families with their settings. Elements
    /// are read like the data (a point read per field or member, a large value now and then), so they share its settings;
    /// index entries are read in ranges as elements are.</summary>
    public static ColumnFamilies ColumnFamilies()
    {
        Cache cache = Cache.CreateLru(BlockCacheBytes);
        var families = new ColumnFamilies(Data(cache));
        families.Add(RocksDbKeys.ExpiryFamily, Small(cache));
        families.Add(RocksDbKeys.MetaFamily, Small(cache));
        families.Add(RocksDbKeys.ElementFamily, Data(cache));
        families.Add(RocksDbKeys.IndexFamily, Index(cache));
        return families;
    }

    private static ColumnFamilyOptions Data(Cache cache)
    {
        BlockBasedTableOptions table = new BlockBasedTableOptions()
            .SetBlockCache(cache)

            // Point reads (GET, and the writer's read of the previous record) are the hot path: a full (not
            // block-based) filter answers "absent" from one probe. Index and filter blocks live in the bounded
            // cache, pinned for L0 whose files every read consults.
            .SetFilterPolicy(BloomFilterPolicy.Create(BloomBitsPerKey, use_block_based_builder: false))
            .SetCacheIndexAndFilterBlocks(true)
            .SetPinL0FilterAndIndexBlocksInCache(true);
        ColumnFamilyOptions options = new ColumnFamilyOptions()
            .SetBlockBasedTableFactory(table)

            .SetWriteBufferSize(DataWriteBufferBytes)

            // LZ4: cheap to compress and decompress; values are often text.
            .SetCompression(Compression.Lz4);

        // The managed wrapper has no setters for the blob options; the binding's native functions do.
        Native.Instance.rocksdb_options_set_enable_blob_files(options.Handle, 1);
        Native.Instance.rocksdb_options_set_min_blob_size(options.Handle, MinBlobSize);
        Native.Instance.rocksdb_options_set_blob_compression_type(options.Handle, (int)Compression.Lz4);

        // Without blob GC, blob files holding overwritten values are only freed when every value in them is dead.
        Native.Instance.rocksdb_options_set_enable_blob_gc(options.Handle, 1);
        return options;
    }

    /// <summary>
    /// Index entries are only scanned, never read by point, and carry no value: no filter (it would be built at every
    /// flush and never asked), no blob files, and a small memtable, since each change of a sorted set's member inserts
    /// two entries into it (the old entry's delete and the new one) and a smaller skip list is cheaper to insert into.
    /// </summary>
    private static ColumnFamilyOptions Index(Cache cache) => new ColumnFamilyOptions()
        .SetBlockBasedTableFactory(new BlockBasedTableOptions().SetBlockCache(cache).SetCacheIndexAndFilterBlocks(true))
        .SetWriteBufferSize(SmallFamilyWriteBufferBytes)
        .SetCompression(Compression.Lz4);

    private static ColumnFamilyOptions Small(Cache cache) => new ColumnFamilyOptions()
        .SetBlockBasedTableFactory(new BlockBasedTableOptions().SetBlockCache(cache))
        .SetWriteBufferSize(SmallFamilyWriteBufferBytes)
        .SetCompression(Compression.Lz4);
}
