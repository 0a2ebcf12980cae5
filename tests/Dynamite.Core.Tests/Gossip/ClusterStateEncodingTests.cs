using Dynamite.Core.Gossip;
using Xunit;

namespace Dynamite.Core.Tests.Gossip;

public sealed class ClusterStateEncodingTests
{
    [Fact]
    public void MemberStatus_Values_ArePinned()
    {
        var pinned = new Dictionary<string, int> { ["Joining"] = 1, ["Up"] = 2, ["Leaving"] = 3, ["Down"] = 4, ["Removed"] = 5 };
        MemberStatus[] values = Enum.GetValues<MemberStatus>();
        Assert.Equal(pinned.Count, values.Length);
        foreach (MemberStatus value in values)
        {
            Assert.Equal(pinned[value.ToString()], (byte)value);
        }

        // Format 2 added each member's client address (format 1 states are not read: there were no users to migrate);
        // format 3 the ACL users (format 2 states are still read, as states without users).
        Assert.Equal(3, ClusterState.FormatVersion);
    }

    [Fact]
    public void Read_OfWrite_MidHandoffState_RoundTrips()
    {
        ClusterState state = MidHandoff();
        byte[] encoded = state.ToBytes();

        ClusterState decoded = ClusterState.Read(encoded);

        Assert.Equal(state, decoded);
        Assert.Equal(state.Digest, decoded.Digest);
        Assert.Equal(encoded, decoded.ToBytes());
        Assert.Equal(state.PendingTransfers, decoded.PendingTransfers);
        Assert.True(state.Owners!.HasSameLayout(decoded.Owners!));
    }

    [Fact]
    public void Read_EmptyState_RoundTrips()
    {
        Assert.Equal(ClusterState.Empty, ClusterState.Read(ClusterState.Empty.ToBytes()));
        Assert.Null(ClusterState.Read(ClusterState.Empty.ToBytes()).Ring);
    }

    [Fact]
    public void Digest_DiffersWhenAnyMemberChanges()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(3), 8);
        ClusterState down = ClusterTransitions.MarkDown(state, GossipTopology.Member(2).Id);
        Assert.NotEqual(state.Digest, down.Digest);
        Assert.Equal(state.Digest, ClusterState.Bootstrap(GossipTopology.Members(3), 8).Digest);
    }

    [Fact]
    public void Read_EveryTruncation_ThrowsFormatException()
    {
        byte[] encoded = MidHandoff().ToBytes();
        for (int cut = 0; cut < encoded.Length; cut++)
        {
            Assert.Throws<FormatException>(() => ClusterState.Read(encoded.AsSpan(0, cut)));
        }
    }

    [Fact]
    public void Read_TrailingByteOrWrongVersion_ThrowsFormatException()
    {
        byte[] encoded = MidHandoff().ToBytes();
        Assert.Throws<FormatException>(() => ClusterState.Read([.. encoded, 0]));
        encoded[0] = 1;
        Assert.Throws<FormatException>(() => ClusterState.Read(encoded));
        encoded[0] = 4;
        Assert.Throws<FormatException>(() => ClusterState.Read(encoded));
    }

    [Fact]
    public void Read_TheFormatBeforeUsers_GivesTheStateWithoutUsers()
    {
        ClusterState state = MidHandoff();
        byte[] encoded = state.ToBytes();
        Assert.Equal(0, encoded[^1]); // no users: the count alone

        byte[] previousFormat = encoded[..^1];
        previousFormat[0] = 2;

        ClusterState read = ClusterState.Read(previousFormat);
        Assert.Equal(state, read);
        Assert.Empty(read.Users);
    }

    [Fact]
    public void Users_RoundTrip_AndTheLaterVersionOfEachWinsTheMerge()
    {
        ClusterState state = MidHandoff()
            .WithUser(new AclUserRecord("alice", 2, "n1", Deleted: false, "on nopass ~app:* resetchannels -@all +get"))
            .WithUser(new AclUserRecord("bob", 1, "n2", Deleted: false, "on #" + new string('a', 64) + " ~* &* +@all"));
        ClusterState elsewhere = MidHandoff()
            .WithUser(new AclUserRecord("alice", 1, "n3", Deleted: false, "off"))
            .WithUser(new AclUserRecord("bob", 2, "n3", Deleted: true, ""));

        ClusterState read = ClusterState.Read(state.ToBytes());
        Assert.Equal(state, read);
        Assert.Equal("on nopass ~app:* resetchannels -@all +get", read.Users["alice"].Rules);

        ClusterState merged = state.Merge(elsewhere);
        Assert.Equal(merged, elsewhere.Merge(state));
        Assert.Equal(2, merged.Users["alice"].Version);
        Assert.Equal("n1", merged.Users["alice"].Actor);
        Assert.True(merged.Users["bob"].Deleted);
        Assert.NotEqual(state.Digest, merged.Digest);
    }

    [Fact]
    public void Read_RandomGarbageAndBitFlips_OnlyEverThrowFormatException()
    {
        var random = new Random(20261122);
        byte[] valid = MidHandoff().ToBytes();
        for (int i = 0; i < 20_000; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 120)];
                random.NextBytes(input);
                if (input.Length > 0 && i % 4 == 0)
                {
                    // Half the garbage gets past the version byte, to reach the member and ring decoders.
                    input[0] = ClusterState.FormatVersion;
                }
            }
            else
            {
                input = (byte[])valid.Clone();
                input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
            }

            try
            {
                ClusterState decoded = ClusterState.Read(input);

                // Whatever decodes must re-encode to the same bytes (only canonical forms are accepted).
                Assert.Equal(input, decoded.ToBytes());
            }
            catch (FormatException)
            {
            }
        }
    }

    [Fact]
    public void ClientAddress_RoundTripsInTheStateAndTheJoinRequest_AndItsAnnouncementWinsTheMerge()
    {
        ClusterState state = MidHandoff();
        Core.Membership.NodeId first = state.Members.Keys.First();

        ClusterState announced = ClusterTransitions.AnnounceClientAddress(state, first, "127.0.0.1:6379");

        Assert.Equal("127.0.0.1:6379", ClusterState.Read(announced.ToBytes()).Members[first].ClientAddress);
        Assert.Equal(state.Members[first].Incarnation + 1, announced.Members[first].Incarnation);
        Assert.Equal("127.0.0.1:6379", state.Merge(announced).Members[first].ClientAddress);
        Assert.Same(announced, ClusterTransitions.AnnounceClientAddress(announced, first, "127.0.0.1:6379"));
        var join = new Core.Peer.Messages.JoinRequest(announced.Members[first].WithStatus(MemberStatus.Joining, 4));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        join.Write(buffer);
        Assert.Equal("127.0.0.1:6379", Core.Peer.Messages.JoinRequest.Read(buffer.WrittenSpan).Member.ClientAddress);
    }

    private static ClusterState MidHandoff()
    {
        ClusterState state = ClusterState.Bootstrap(GossipTopology.Members(3), 6);
        state = ClusterTransitions.Join(state, GossipTopology.Member(3, status: MemberStatus.Joining));
        state = ClusterTransitions.MarkDown(state, GossipTopology.Member(2).Id);
        state = Claimant.Step(state, state.Claimant!.Value, 3).State;
        return ClusterTransitions.ReportReady(state, GossipTopology.Member(3).Id, state.Ring!);
    }
}
