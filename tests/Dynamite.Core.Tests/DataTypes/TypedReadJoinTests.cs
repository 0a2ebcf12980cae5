using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.DataTypes;

public sealed class TypedReadJoinTests
{
    private const long Now = 1_700_000_000_000;
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly Dot Created = new(A, 1);

    [Fact]
    public void Of_ReplicasThatDiverged_SeesEveryAddAndNoObservedRemove()
    {
        // a holds m1 and m2; b saw both, removed m1, and added m3 that a has not received.
        Dot m1 = new(A, 2), m2 = new(A, 3), m3 = new(B, 1);
        ReplicaElements onA = Reply(Context(Created, m1, m2), false, ("m1", m1), ("m2", m2));
        ReplicaElements onB = Reply(Context(Created, m1, m2, m3), false, ("m2", m2), ("m3", m3));

        TypedReadJoin joined = TypedReadJoin.Of([onA, onB]);

        Assert.Equal(["m2", "m3"], Names(joined));
        Assert.Equal(DataType.Set, joined.Header!.Type);
        Assert.Null(joined.ResumeAfter);
        Assert.Equal(Names(joined), Names(TypedReadJoin.Of([onB, onA])));
    }

    [Fact]
    public void RepairFor_TheReplicaBehind_CarriesWhatItLacksAndTheRemoveItMissed()
    {
        Dot m1 = new(A, 2), m2 = new(A, 3), m3 = new(B, 1);
        ReplicaElements onA = Reply(Context(Created, m1, m2), false, ("m1", m1), ("m2", m2));
        ReplicaElements onB = Reply(Context(Created, m1, m2, m3), false, ("m2", m2), ("m3", m3));
        TypedReadJoin joined = TypedReadJoin.Of([onA, onB]);

        KeyDelta repair = joined.RepairFor(onA)!;

        // m1 goes (its dot in the context, no write), m3 arrives; m2, which a holds already, is not sent.
        Assert.Equal(["m1", "m3"], repair.Elements.Select(e => Encoding.UTF8.GetString(e.Key)));
        Assert.False(repair.Elements[0].Value.Writes.IsPresent);
        Assert.True(repair.Elements[0].Value.Context.Covers(m1));
        Assert.True(repair.Elements[1].Value.Writes.IsPresent);
        Assert.False(repair.Elements[1].Value.Context.Covers(m2));
        Assert.Null(joined.RepairFor(onB));
        Assert.NotNull(joined.RepairFor(ReplicaElements.Absent));
    }

    [Fact]
    public void RepairFor_AWholeKeyReadOfAReplicaWhoseContextAloneIsBehind_CarriesTheContext()
    {
        // An add (b:1) and its remove both missed a: the same elements on both, but a's context lacks b:1, which no
        // element holds. Only a whole-key read may carry the context: a late copy of the add must then stay removed at a.
        Dot m1 = new(A, 2), gone = new(B, 1);
        ReplicaElements onA = Reply(Context(Created, m1), false, ("m1", m1));
        ReplicaElements onB = Reply(Context(Created, m1, gone), false, ("m1", m1));

        TypedReadJoin whole = TypedReadJoin.Of([onA, onB], wholeKey: true);
        KeyDelta repair = whole.RepairFor(onA)!;

        Assert.True(whole.WholeKey);
        Assert.Empty(repair.Elements);
        Assert.True(repair.Header.Context.Covers(gone));
        Assert.Null(whole.RepairFor(onB));

        // Not a whole key (a window, or named elements): the context outside the window is not the read's to carry.
        Assert.Null(TypedReadJoin.Of([onA, onB]).RepairFor(onA));
    }

    [Fact]
    public void Of_AWholeKeyReadWhereSomeAnswerHasMore_IsNotAWholeKey()
    {
        Dot m1 = new(A, 2), m2 = new(A, 3);
        ReplicaElements partial = Reply(Context(Created, m1, m2), true, ("m1", m1));
        ReplicaElements complete = Reply(Context(Created, m1, m2), false, ("m1", m1), ("m2", m2));

        Assert.False(TypedReadJoin.Of([partial, complete], wholeKey: true).WholeKey);
        Assert.True(TypedReadJoin.Of([complete, complete], wholeKey: true).WholeKey);
    }

    [Fact]
    public void Of_PagesOfDifferentReach_AnswersUpToTheShortestPageWithMore()
    {
        Dot m1 = new(A, 2), m2 = new(A, 3), m3 = new(A, 4);
        ReplicaElements full = Reply(Context(Created, m1, m2, m3), true, ("m1", m1), ("m2", m2));
        ReplicaElements lagging = Reply(Context(Created, m1, m3), true, ("m1", m1), ("m3", m3));

        TypedReadJoin page = TypedReadJoin.Of([full, lagging]);

        // m3 lies beyond the first replica's page: it comes in the next page, after m2.
        Assert.Equal(["m1", "m2"], Names(page));
        Assert.Equal("m2"u8.ToArray(), page.ResumeAfter);
    }

    [Fact]
    public void Of_AStringWrittenAfterTheSetWasCreated_AnswersTheString()
    {
        VersionedObject text = VersionedObject.Empty.Update(VersionVector.Empty, B, "v"u8.ToArray(), Now + 5, 0);
        ReplicaElements set = Reply(Context(Created, new Dot(A, 2)), false, ("m", new Dot(A, 2)));
        var plain = new ReplicaElements(StoredKeyKind.Plain, text.Encode(), [], false);

        TypedReadJoin joined = TypedReadJoin.Of([set, plain]);

        Assert.Null(joined.Header);
        Assert.Equal("v"u8.ToArray(), joined.Plain!.ResolveLastWriterWins()!.Value);
        Assert.Empty(joined.Elements);
    }

    [Fact]
    public void EncodeDecode_SelectionsAndAnswers_RoundTrip()
    {
        ElementSelection named = ElementSelection.Decode(ElementSelection.Named(["a"u8.ToArray(), []]).Encode());
        Assert.Equal(["a"u8.ToArray(), []], named.Names!);
        ElementSelection page = ElementSelection.Decode(ElementSelection.Page("x"u8.ToArray(), 10).Encode());
        Assert.True(page.IsPage);
        Assert.Equal("x"u8.ToArray(), page.After);
        Assert.Equal(10, page.Limit);
        Assert.Null(ElementSelection.Decode(ElementSelection.Page(null, 1).Encode()).After);
        ElementSelection window = ElementSelection.Decode(ElementSelection.IndexWindow("b"u8.ToArray(), 26, backward: true).Encode());
        Assert.True(window.IsIndexWindow);
        Assert.True(window.Backward);
        Assert.Equal("b"u8.ToArray(), window.After);
        Assert.Equal(26, window.Limit);
        ElementSelection forward = ElementSelection.Decode(ElementSelection.IndexWindow(null, 1, backward: false).Encode());
        Assert.True(forward.IsIndexWindow);
        Assert.False(forward.Backward);
        Assert.Null(forward.After);
        Assert.False(ElementSelection.Decode(ElementSelection.Page(null, 1).Encode()).IsIndexWindow);
        Assert.Throws<FormatException>(() => ElementSelection.Decode([2, 2, 0, 1]));
        Assert.Throws<FormatException>(() => ElementSelection.Decode([3]));

        ReplicaElements reply = Reply(Context(Created, new Dot(A, 2)), true, ("m", new Dot(A, 2)));
        ReplicaElements decoded = ReplicaElements.Decode(reply.Encode());
        Assert.Equal(reply.Kind, decoded.Kind);
        Assert.Equal(reply.Record, decoded.Record);
        Assert.True(decoded.HasMore);
        Assert.Equal(reply.Elements[0].Value, decoded.Elements[0].Value);
        Assert.Throws<FormatException>(() => ReplicaElements.Decode([.. reply.Encode(), 0]));
        Assert.Throws<FormatException>(() => ElementSelection.Decode([2]));
    }

    private static DotContext Context(params Dot[] dots) => DotContext.Of(dots);

    private static ReplicaElements Reply(DotContext context, bool hasMore, params (string Name, Dot Dot)[] members)
    {
        KeyHeader header = KeyHeader.Create(DataType.Set, new Stamp(Now, Created)).WithContext(context);
        var elements = members.Select(m => new KeyValuePair<byte[], ElementState>(
            Encoding.UTF8.GetBytes(m.Name), ElementState.Of([new ElementWrite(m.Dot, Now, null)]))).ToList();
        return new ReplicaElements(StoredKeyKind.Typed, new TypedKeyRecord(header, elements.Count).Encode(), elements, hasMore);
    }

    private static List<string> Names(TypedReadJoin joined) => [.. joined.Elements.Select(e => Encoding.UTF8.GetString(e.Key))];
}
