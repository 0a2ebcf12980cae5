using System.Globalization;
using System.Text;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;

namespace Dynamite.Core.DataTypes;

/// <summary>
/// Builds one command's <see cref="KeyDelta"/> from a cluster replica's stored state of the key (docs/DATA-TYPES.md,
/// "Deltas"): opens the key as a type (creating it when it reads as absent), then takes each element change against
/// the element's stored state, every write under a new dot of the actor. Each new dot joins the running context, so
/// one command that writes several elements gives each its own dot. Reads see this command's own changes.
/// </summary>
public sealed class KeyDeltaBuilder
{
    private readonly IStorageTransaction _transaction;
    private readonly byte[] _key;
    private readonly NodeId _actor;
    private readonly KeyHeader _header;
    private readonly bool _creates;
    private readonly DotContext _storedContext;
    private readonly Dictionary<byte[], ElementDelta> _changes = new(ByteArrayComparer.Instance);
    private readonly List<KeyValuePair<byte[], ElementDelta>> _order = [];
    private bool _removesAll;
    private long _storedExpiry;
    private (long ExpiresAtUnixMs, Stamp Set)? _expiry;

    private KeyDeltaBuilder(IStorageTransaction transaction, byte[] key, NodeId actor, KeyHeader header, DotContext context, bool creates, long elementCount)
    {
        _transaction = transaction;
        _key = key;
        _actor = actor;
        _header = header;
        Context = context;
        _storedContext = context;
        _creates = creates;
        StoredElementCount = elementCount;
    }

    /// <summary>The key's context with every dot this command has taken so far.</summary>
    public DotContext Context { get; private set; }

    /// <summary>True when the key read as absent and this command creates it.</summary>
    public bool Creates => _creates;

    /// <summary>The key's expiry as the replica stores it (0: none; a key this command creates has none).</summary>
    public long Expiry => _creates ? 0 : _storedExpiry;

    /// <summary>The replica's live element count before this command.</summary>
    public long StoredElementCount { get; }

    /// <summary>
    /// Opens <paramref name="key"/> as a key of <paramref name="type"/>: null when it holds a live value of another type
    /// (WRONGTYPE). A key that reads as absent (none stored, a string tombstone, a typed key's header left by its last
    /// element's removal) is created by this command, stamped with a new dot, unless only a header of the same type
    /// stands there, whose context the command continues.
    /// </summary>
    public static KeyDeltaBuilder? Open(IStorageTransaction transaction, byte[] key, DataType type, NodeId actor)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(key);
        DotContext context = DotContext.Empty;
        long createdAt = transaction.NowUnixMs;
        if (transaction.TryRead(key, out StoredRecord record))
        {
            if (record.IsTypedHeader)
            {
                TypedKeyRecord stored = TypedKeyRecord.Decode(record.Value);
                if (stored.Header.Type == type)
                {
                    return new KeyDeltaBuilder(transaction, key, actor, KeyHeader.Create(type, stored.Header.Created), stored.Header.Context, creates: false, stored.ElementCount)
                    {
                        _storedExpiry = stored.Header.ExpiresAtUnixMs,
                    };
                }

                if (stored.ElementCount > 0)
                {
                    return null;
                }

                context = stored.Header.Context;
            }
            else if (VersionedObject.Decode(record.Value).ResolveLastWriterWins() is { } lastWrite)
            {
                if (!lastWrite.IsTombstone && !lastWrite.IsExpiredAt(transaction.NowUnixMs))
                {
                    return null;
                }

                // A deleted or expired string (DEL, then SADD in the same millisecond): the replicas keep a string over a
                // typed key created no later than its write, so the key is created after it.
                createdAt = Math.Max(createdAt, lastWrite.TimestampUnixMs + 1);
            }
        }

        Dot created = context.NextDot(actor);
        KeyHeader header = KeyHeader.Create(type, new Stamp(createdAt, created)).WithContext(DotContext.Of([created]));
        return new KeyDeltaBuilder(transaction, key, actor, header, context.Add(created), creates: true, 0);
    }

    /// <summary>
    /// Opens <paramref name="key"/> for a counter command on a cluster (<c>INCR</c>: docs/DATA-TYPES.md, "Counters") as a
    /// typed string: null when it holds a live hash or set (WRONGTYPE). A live plain string (written by <c>SET</c>) is
    /// replaced: the key is created anew, stamped later than the string's last-writer-wins write (so every replica's
    /// join takes the counter over the string), and <paramref name="replacedValue"/> and
    /// <paramref name="replacedExpiresAtUnixMs"/> give the string's value and expiry, for the command to carry over.
    /// </summary>
    public static KeyDeltaBuilder? OpenString(IStorageTransaction transaction, byte[] key, NodeId actor, out byte[]? replacedValue, out long replacedExpiresAtUnixMs)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(key);
        replacedValue = null;
        replacedExpiresAtUnixMs = 0;
        if (transaction.TryRead(key, out StoredRecord record)
            && !record.IsTypedHeader
            && VersionedObject.Decode(record.Value).ResolveLastWriterWins() is { IsTombstone: false } live
            && !live.IsExpiredAt(transaction.NowUnixMs))
        {
            replacedValue = live.Value;
            replacedExpiresAtUnixMs = live.ExpiresAtUnixMs;
            Dot created = DotContext.Empty.NextDot(actor);
            long at = Math.Max(transaction.NowUnixMs, live.TimestampUnixMs + 1);
            KeyHeader header = KeyHeader.Create(DataType.String, new Stamp(at, created)).WithContext(DotContext.Of([created]));
            return new KeyDeltaBuilder(transaction, key, actor, header, DotContext.Of([created]), creates: true, 0);
        }

        return Open(transaction, key, DataType.String, actor);
    }

    /// <summary>The element's state as this command sees it: the replica's, with this command's change joined.</summary>
    public ElementState Read(byte[] name)
    {
        // A key this command creates has no elements yet: any still stored belong to an expired key not swept yet.
        ElementState stored = !_creates && _transaction.TryReadElement(_key, name, out byte[]? encoded) ? ElementState.Decode(encoded) : ElementState.Empty;
        return _changes.TryGetValue(name, out ElementDelta? change) ? change.ApplyTo(stored, _storedContext).Element : stored;
    }

    /// <summary>A register write (<c>HSET</c>) or, with a null value, a presence write (<c>SADD</c>).</summary>
    public void Assign(byte[] name, byte[]? value) =>
        Change(name, ElementDelta.Assign(Read(name), Context, _actor, _transaction.NowUnixMs, value));

    /// <summary>An observed remove (<c>HDEL</c>, <c>SREM</c>); false, and nothing changed, when the element is absent.</summary>
    public bool Remove(byte[] name)
    {
        ElementState current = Read(name);
        if (!current.IsPresent)
        {
            return false;
        }

        Change(name, ElementDelta.Remove(current));
        return true;
    }

    /// <summary>An increment of the actor's counter chain on the element (<c>HINCRBY</c>, <c>INCRBY</c>).</summary>
    public void Increment(byte[] name, long by, double floatBy = 0) =>
        Change(name, ElementDelta.Increment(Read(name), Context, _actor, _transaction.NowUnixMs, by, floatBy));

    /// <summary>
    /// <c>DEL</c>: every write of every element this replica has seen goes (an observed remove of the whole key, O(1)
    /// bytes on the wire); writes it has not seen survive on the replicas that hold them.
    /// </summary>
    public void RemoveAll() => _removesAll = true;

    /// <summary>The key's expiry register (<c>EXPIRE</c>, <c>PERSIST</c>: 0), stamped by a new dot: last-writer-wins on every replica.</summary>
    public void SetExpiry(long expiresAtUnixMs)
    {
        Dot dot = Context.NextDot(_actor);
        Context = Context.Add(dot);
        _expiry = (expiresAtUnixMs, new Stamp(_transaction.NowUnixMs, dot));
    }

    /// <summary>
    /// <see cref="Increment"/>, or, when the chain's grow-only totals would leave 64 bits (increments and decrements of
    /// extreme sizes), a register write of <paramref name="result"/>, the value the increment makes: it supersedes the
    /// chains it saw, and the value is the same.
    /// </summary>
    public void IncrementOrRestate(byte[] name, long by, long result)
    {
        try
        {
            Increment(name, by);
        }
        catch (OverflowException)
        {
            Assign(name, Encoding.ASCII.GetBytes(result.ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>The command's delta; null when it changed nothing (and created nothing).</summary>
    public KeyDelta? Build()
    {
        if (_order.Count == 0 && !_removesAll && _expiry is null)
        {
            return null;
        }

        KeyHeader header = _header;
        if (_expiry is { } expiry)
        {
            header = header.WithExpiry(expiry.ExpiresAtUnixMs, expiry.Set).WithContext(header.Context.Add(expiry.Set.Dot!.Value));
        }

        // A whole-key remove carries what it observed as the header's context: every replica drops the writes it covers.
        return _removesAll ? new KeyDelta(header.WithContext(header.Context.Union(_storedContext)), _order, removesObserved: true) : new KeyDelta(header, _order);
    }

    private void Change(byte[] name, ElementDelta change)
    {
        if (_changes.TryGetValue(name, out ElementDelta? earlier))
        {
            // A second change of one name in one command joins the first as a replica would: a write the second saw
            // goes (HSET f a f b keeps b), one it did not see stays (INCR over a register it carries over keeps both).
            change = new ElementDelta(ElementState.Join(earlier.Writes, earlier.Context, change.Writes, change.Context), earlier.Context.Union(change.Context));
            int index = _order.FindIndex(pair => ByteArrayComparer.Instance.Equals(pair.Key, name));
            _order[index] = new(name, change);
        }
        else
        {
            _order.Add(new(name, change));
        }

        _changes[name] = change;
        Context = Context.Union(change.Context);
    }
}
