using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>A write of one sorted set (<see cref="TypedDeltaOperation"/>); the members it reads in order come from
/// <see cref="SortedSetWindow"/>.</summary>
internal abstract class SortedSetChange(byte[] key, NodeId actor) : TypedDeltaOperation(key, DataType.SortedSet, actor);
