using System.CommandLine;
using Dynamite.Server.Configuration;
using Dynamite.Server.Hosting;

namespace Dynamite.Cli;

/// <summary><c>dynamite start</c>: runs one node in the foreground until SIGINT or SIGTERM.</summary>
internal sealed class StartCommand
{
    private readonly Option<string?> _config = new("--config")
    {
        Description = "YAML configuration file; its keys are the flags' names without the dashes. Environment variables override it, flags override both.",
    };

    /// <summary>One flag per setting, generated from its declaration in <see cref="NodeConfiguration"/>.</summary>
    private readonly List<(NodeSetting Setting, Option<string?> Flag)> _settingFlags = [.. NodeSetting.All.Select(setting => (setting, CreateFlag(setting)))];

    public StartCommand()
    {
        Command = new Command("start", "Run a Dynamite node in the foreground until Ctrl-C (SIGINT) or SIGTERM. Every option can also be " +
            "set in the --config file (key node-id for --node-id) or the environment (DYNAMITE_NODE_ID); flags win over the environment, " +
            "which wins over the file.")
        {
            _config,
        };
        foreach ((_, Option<string?> flag) in _settingFlags)
        {
            Command.Options.Add(flag);
        }

        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    public static Command Create() => new StartCommand().Command;

    /// <summary>Defaults, then the YAML file, then the environment, then flags; validated.</summary>
    /// <param name="parseResult">A parse of this command.</param>
    /// <param name="getEnvironmentVariable">Reads an environment variable; the process's own by default.</param>
    /// <exception cref="ConfigurationException">A bad file, value or combination.</exception>
    public NodeConfiguration Resolve(ParseResult parseResult, Func<string, string?>? getEnvironmentVariable = null)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((NodeSetting setting, Option<string?> flag) in _settingFlags)
        {
            if (parseResult.GetValue(flag) is { } text)
            {
                flags[setting.Key] = text;
            }
        }

        return NodeConfigurationLoader.Load(parseResult.GetValue(_config), flags, getEnvironmentVariable ?? Environment.GetEnvironmentVariable);
    }

    /// <summary>Values are taken as text and parsed by the setting (errors name the flag); words such as on/off or
    /// sqlite/memory are also offered to the command line parser, which completes them and refuses others.</summary>
    private static Option<string?> CreateFlag(NodeSetting setting)
    {
        var flag = new Option<string?>(setting.Flag) { Description = setting.HelpText };
        if (setting.Choices.Count > 0)
        {
            flag.AcceptOnlyFromAmong([.. setting.Choices]);
        }

        return flag;
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        try
        {
            return await NodeHost.RunAsync(Resolve(parseResult), cancellationToken);
        }
        catch (ConfigurationException exception)
        {
            await Console.Error.WriteLineAsync("dynamite: " + exception.Message);
            return 2;
        }
        catch (IOException exception) when (exception.InnerException is System.Net.Sockets.SocketException || exception.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync("dynamite: cannot listen: " + exception.Message);
            return 3;
        }
    }
}
