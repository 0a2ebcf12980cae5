namespace Dynamite.Core.KeyValue;

/// <summary>
/// A command that writes over several keys and that a cluster node runs as a sequence of single-key operations, since
/// no atomic write spans keys there (SMOVE, SINTERSTORE and the other STORE forms of set algebra): each step is an
/// operation of its own (a quorum read, a change of one key), chosen by what the steps before it found. A standalone
/// node runs the command whole, atomically, through <see cref="IStorageOperation.Execute"/>, as Redis does.
/// </summary>
public interface IStepwiseOperation : IStorageOperation
{
    /// <summary>Most steps a command takes: a bound on the loop that runs them.</summary>
    public const int MaxSteps = 8;

    /// <summary>Most steps this command takes (a command over a client's list of keys, such as ZMPOP, takes one per key).</summary>
    int StepLimit => MaxSteps;

    /// <summary>The next step, called first with none run and then once each step has completed; null when the command is done.</summary>
    IStorageOperation? NextStep();
}
