using System.Buffers.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.KeyOperations;

namespace Dynamite.Protocols.Resp.Commands;

/// <summary>
/// Generic key commands: DEL, UNLINK, EXISTS, the EXPIRE family, EXPIRETIME, TTL, PERSIST, TYPE, SCAN, KEYS. They know
/// typed keys (hashes, sets): a typed key's record is its header, with the key's expiry, and its elements go with it.
/// </summary>
internal static class KeyCommands
{
    private const int DefaultScanCount = 10;
    private const int KeysPageSize = 1000;

    public static IEnumerable<CommandDefinition> Definitions =>
    [
        new("DEL", -2, CommandFlags.Write, 1, -1, 1, "generic", "1.0.0", "Deletes one or more keys.", Del),
        new("UNLINK", -2, CommandFlags.Write | CommandFlags.Fast, 1, -1, 1, "generic", "4.0.0", "Asynchronously deletes one or more keys.", Del),
        new("EXISTS", -2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, -1, 1, "generic", "1.0.0", "Determines whether one or more keys exist.", Exists),
        new("EXPIRE", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "generic", "1.0.0", "Sets the expiration time of a key in seconds.", Expire),
        new("PEXPIRE", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "generic", "2.6.0", "Sets the expiration time of a key in milliseconds.", PExpire),
        new("EXPIREAT", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp.", ExpireAt),
        new("PEXPIREAT", -3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp.", PExpireAt),
        new("TTL", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "generic", "1.0.0", "Returns the expiration time in seconds of a key.", Ttl),
        new("PTTL", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "generic", "2.6.0", "Returns the expiration time in milliseconds of a key.", PTtl),
        new("EXPIRETIME", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp.", ExpireTime),
        new("PEXPIRETIME", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp.", PExpireTime),
        new("PERSIST", 2, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "generic", "2.2.0", "Removes the expiration time of a key.", Persist),
        new("TYPE", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1, "generic", "1.0.0", "Determines the type of value stored at a key.", Type),
        new("SCAN", -2, CommandFlags.ReadOnly, 0, 0, 0, "generic", "2.8.0", "Iterates over the key names in the database.", Scan),
        new("KEYS", 2, CommandFlags.ReadOnly, 0, 0, 0, "generic", "1.0.0", "Returns all key names that match a pattern.", Keys),
        new("RANDOMKEY", 1, CommandFlags.ReadOnly, 0, 0, 0, "generic", "1.0.0", "Returns a random key name from the database.", RandomKey),
    ];

    private static ValueTask Del(CommandContext context)
    {
        var keys = new byte[context.ArgumentCount - 1][];
        for (int i = 1; i < context.ArgumentCount; i++)
        {
            keys[i - 1] = context.OwnedArgument(i);
        }

        return context.Apply(new DeleteOperation(keys), static (c, op) => c.Writer.WriteInteger(op.Deleted));
    }

    private static ValueTask Exists(CommandContext context) =>
        context.ReadKeys(1, context.ArgumentCount - 1, 1, static (c, results) =>
        {
            long count = 0;
            foreach (ReadResult result in results)
            {
                count += result.Found ? 1 : 0;
            }

            c.Writer.WriteInteger(count);
        });

    private static ValueTask Expire(CommandContext context) => SetExpiry(context, seconds: true, relative: true);

    private static ValueTask PExpire(CommandContext context) => SetExpiry(context, seconds: false, relative: true);

    private static ValueTask ExpireAt(CommandContext context) => SetExpiry(context, seconds: true, relative: false);

    private static ValueTask PExpireAt(CommandContext context) => SetExpiry(context, seconds: false, relative: false);

    private static ValueTask SetExpiry(CommandContext context, bool seconds, bool relative)
    {
        var condition = ExpireCondition.None;
        for (int i = 3; i < context.ArgumentCount; i++)
        {
            if (context.ArgumentIs(i, "NX"))
            {
                condition |= ExpireCondition.IfNoExpiry;
            }
            else if (context.ArgumentIs(i, "XX"))
            {
                condition |= ExpireCondition.IfExpiry;
            }
            else if (context.ArgumentIs(i, "GT"))
            {
                condition |= ExpireCondition.IfGreater;
            }
            else if (context.ArgumentIs(i, "LT"))
            {
                condition |= ExpireCondition.IfLess;
            }
            else
            {
                return context.Error($"ERR Unsupported option {context.ArgumentString(i)}");
            }
        }

        if ((condition & ExpireCondition.IfNoExpiry) != 0 && (condition & ~ExpireCondition.IfNoExpiry) != 0)
        {
            return context.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
        }

        if ((condition & (ExpireCondition.IfGreater | ExpireCondition.IfLess)) == (ExpireCondition.IfGreater | ExpireCondition.IfLess))
        {
            return context.Error("ERR GT and LT options at the same time are not compatible");
        }

        if (!ExpirySpec.TryParse(context.Argument(2), seconds, relative, context.Store.NowUnixMs, context.Command.LowerName, allowNonPositive: true, out ExpirySpec expiry, out string? error))
        {
            return context.Error(error!);
        }

        return context.Apply(new ExpireOperation(context.OwnedArgument(1), expiry, condition, context.Server.Actor), static (c, op) => c.Writer.WriteInteger(op.Changed ? 1 : 0));
    }

    private static ValueTask Ttl(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) => WriteTtl(c, results[0], milliseconds: false));

    private static ValueTask PTtl(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) => WriteTtl(c, results[0], milliseconds: true));

    private static void WriteTtl(CommandContext context, ReadResult result, bool milliseconds)
    {
        if (!result.Found)
        {
            context.Writer.WriteInteger(-2);
        }
        else if (!result.Record.HasExpiry)
        {
            context.Writer.WriteInteger(-1);
        }
        else
        {
            long ttl = Math.Max(0, result.Record.ExpiresAtUnixMs - context.Store.NowUnixMs);
            context.Writer.WriteInteger(milliseconds ? ttl : (ttl + 500) / 1000);
        }
    }

    private static ValueTask ExpireTime(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) => WriteExpireTime(c, results[0], milliseconds: false));

    private static ValueTask PExpireTime(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) => WriteExpireTime(c, results[0], milliseconds: true));

    private static void WriteExpireTime(CommandContext context, ReadResult result, bool milliseconds)
    {
        if (!result.Found)
        {
            context.Writer.WriteInteger(-2);
        }
        else if (!result.Record.HasExpiry)
        {
            context.Writer.WriteInteger(-1);
        }
        else
        {
            context.Writer.WriteInteger(milliseconds ? result.Record.ExpiresAtUnixMs : result.Record.ExpiresAtUnixMs / 1000);
        }
    }

    private static ValueTask Persist(CommandContext context) =>
        context.Apply(new ExpireOperation(context.OwnedArgument(1), ExpirySpec.Clear, ExpireCondition.Persist, context.Server.Actor), static (c, op) => c.Writer.WriteInteger(op.Changed ? 1 : 0));

    private static ValueTask Type(CommandContext context) =>
        context.ReadKeys(1, 1, 1, static (c, results) => c.Writer.WriteSimpleString(TypeName(results[0])));

    /// <summary>TYPE's answer for a read: none, string, or a typed key's type.</summary>
    private static ReadOnlySpan<byte> TypeName(ReadResult result) =>
        !result.Found ? "none"u8
        : !result.Record.IsTypedHeader ? "string"u8
        : TypedKeyRecord.TypeOf(result.Record.Value) switch
        {
            DataType.Hash => "hash"u8,
            DataType.Set => "set"u8,
            DataType.SortedSet => "zset"u8,
            DataType.List => "list"u8,
            _ => "string"u8,
        };

    /// <summary>
    /// SCAN's TYPE filter over a page's keys: reads each key's record (on a cluster node, a quorum read that answers a
    /// typed key's joined header, or a counter's value as a string), awaiting a read that does not complete at once.
    /// </summary>
    private static async ValueTask<List<byte[]>> OfTypeAsync(CommandContext context, List<byte[]> keys, byte[] type)
    {
        var matching = new List<byte[]>(keys.Count);
        foreach (byte[] key in keys)
        {
            ReadResult result = await context.Store.ReadAsync(key);
            if (result.Found && System.Text.Ascii.EqualsIgnoreCase(type, TypeName(result)))
            {
                matching.Add(key);
            }
        }

        return matching;
    }

    private static ValueTask Scan(CommandContext context)
    {
        if (!Utf8Parser.TryParse(context.Argument(1), out ulong cursor, out int consumed) || consumed != context.Argument(1).Length)
        {
            return context.Error(RespErrors.InvalidCursor);
        }

        long count = DefaultScanCount;
        byte[]? pattern = null;
        byte[]? type = null;
        for (int i = 2; i < context.ArgumentCount; i++)
        {
            bool hasNext = i + 1 < context.ArgumentCount;
            if (context.ArgumentIs(i, "COUNT") && hasNext)
            {
                if (!RespNumbers.TryParseInt64(context.Argument(i + 1), out count))
                {
                    return context.Error(RespErrors.NotInteger);
                }

                if (count < 1)
                {
                    return context.SyntaxError();
                }
            }
            else if (context.ArgumentIs(i, "MATCH") && hasNext)
            {
                pattern = GlobPattern.MatchesAll(context.Argument(i + 1)) ? null : context.Argument(i + 1).ToArray();
            }
            else if (context.ArgumentIs(i, "TYPE") && hasNext)
            {
                type = context.Argument(i + 1).ToArray();
            }
            else
            {
                return context.SyntaxError();
            }

            i++;
        }

        if (!ScanCursor.TryDecode(cursor, out ulong fromHash))
        {
            context.Writer.WriteArrayHeader(2);
            context.Writer.WriteBulk("0"u8);
            context.Writer.WriteArrayHeader(0);
            return ValueTask.CompletedTask;
        }

        ScanPage page = context.Store.Scan(fromHash, (int)Math.Min(count, 100_000));
        var keys = new List<byte[]>(page.Keys.Count);
        foreach (byte[] key in page.Keys)
        {
            if (pattern is null || GlobPattern.IsMatch(pattern, key))
            {
                keys.Add(key);
            }
        }

        if (type is null)
        {
            WriteScanPage(context, page.NextHash, keys);
            return ValueTask.CompletedTask;
        }

        return ScanOfTypeAsync(context, page.NextHash, keys, type);
    }

    private static async ValueTask ScanOfTypeAsync(CommandContext context, ulong? nextHash, List<byte[]> keys, byte[] type)
    {
        List<byte[]> matching;
        try
        {
            matching = await OfTypeAsync(context, keys, type);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            context.Writer.WriteError(CommandContext.StorageFailure(exception));
            return;
        }

        WriteScanPage(context, nextHash, matching);
    }

    private static void WriteScanPage(CommandContext context, ulong? nextHash, List<byte[]> keys)
    {
        context.Writer.WriteArrayHeader(2);
        context.Writer.WriteBulk(ScanCursor.Encode(nextHash).ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Writer.WriteArrayHeader(keys.Count);
        foreach (byte[] key in keys)
        {
            context.Writer.WriteBulk(key);
        }
    }

    /// <summary>
    /// RANDOMKEY: the first live key at or after a random point of the key-hash order, wrapping to the start (null when
    /// there is none). Keys after wide gaps in the hash order come up more often, as with redis-server's own sampling
    /// it is random, not uniform. On a cluster node, one of the keys it stores (as KEYS and SCAN there).
    /// </summary>
    private static ValueTask RandomKey(CommandContext context)
    {
        ulong start = (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);
        ScanPage page = context.Store.Scan(start, 1);
        if (page.Keys.Count == 0 && start != 0)
        {
            page = context.Store.Scan(0, 1);
        }

        if (page.Keys.Count == 0)
        {
            context.Writer.WriteNull();
        }
        else
        {
            context.Writer.WriteBulk(page.Keys[0]);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask Keys(CommandContext context)
    {
        ReadOnlySpan<byte> pattern = context.Argument(1);
        bool all = GlobPattern.MatchesAll(pattern);
        var keys = new List<byte[]>();
        ulong? from = 0;
        while (from is { } cursor)
        {
            ScanPage page = context.Store.Scan(cursor, KeysPageSize);
            foreach (byte[] key in page.Keys)
            {
                if (all || GlobPattern.IsMatch(pattern, key))
                {
                    keys.Add(key);
                }
            }

            from = page.NextHash;
        }

        context.Writer.WriteArrayHeader(keys.Count);
        foreach (byte[] key in keys)
        {
            context.Writer.WriteBulk(key);
        }

        return ValueTask.CompletedTask;
    }
}
