using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;

namespace Dynamite.Core.Tests.DataTypes;

/// <summary>
/// One replica's copy of one key in the tests: its elements by name and its causal context, updated only through
/// <see cref="ElementDelta"/> (as a coordinator does) and <see cref="JoinFrom"/> (as anti-entropy does).
/// </summary>
internal sealed class KeyReplica(NodeId actor)
{
    public NodeId Actor { get; } = actor;

    public SortedDictionary<string, ElementState> Elements { get; } = new(StringComparer.Ordinal);

    public DotContext Context { get; private set; } = DotContext.Empty;

    public ElementState Get(string element) => Elements.GetValueOrDefault(element) ?? ElementState.Empty;

    /// <summary>Runs a command here as its coordinator: builds the delta from local state, applies it, returns it to ship.</summary>
    public (string Element, ElementDelta Delta) Coordinate(string element, Func<ElementState, DotContext, ElementDelta> command)
    {
        ElementDelta delta = command(Get(element), Context);
        Apply(element, delta);
        return (element, delta);
    }

    public void Apply(string element, ElementDelta delta)
    {
        (ElementState state, DotContext context) = delta.ApplyTo(Get(element), Context);
        Store(element, state);
        Context = context;
    }

    /// <summary>Full-state join of another replica's copy of the key (anti-entropy, handoff).</summary>
    public void JoinFrom(KeyReplica other)
    {
        foreach (string element in Elements.Keys.Union(other.Elements.Keys, StringComparer.Ordinal).ToList())
        {
            Store(element, ElementState.Join(Get(element), Context, other.Get(element), other.Context));
        }

        Context = Context.Union(other.Context);
    }

    public bool SameAs(KeyReplica other) =>
        Context.Equals(other.Context)
        && Elements.Count == other.Elements.Count
        && Elements.All(entry => other.Elements.TryGetValue(entry.Key, out ElementState? theirs) && theirs.Equals(entry.Value));

    private void Store(string element, ElementState state)
    {
        if (!state.IsEmpty)
        {
            Elements[element] = state;
        }
        else
        {
            Elements.Remove(element);
        }
    }
}
