using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A team's deployment safe by default: nothing reaches a ledger without access control through a proxy, the site's cookie is
/// Secure behind a TLS proxy the Server is told of, plain http beyond this machine is warned about at start, and team.sh keeps
/// its secrets to its own user.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TeamDeploymentTests(PostgresFixture pg)
{
    private const string AdminSecret = "admin-secret-for-tests-0123456789";

    [Fact]
    public async Task without_access_control_a_request_a_proxy_forwarded_is_refused()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        (await client.GetAsync("/api/studies")).StatusCode.ShouldBe(HttpStatusCode.OK);
        foreach (var header in new[] { "X-Forwarded-For", "Forwarded", "X-Real-IP", "Via" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/studies");
            request.Headers.TryAddWithoutValidation(header, header == "Forwarded" ? "for=203.0.113.9" : "203.0.113.9");
            var response = await client.SendAsync(request);
            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, header);
            (await response.Content.ReadAsStringAsync()).ShouldContain("through a proxy");
        }
    }

    [Fact]
    public async Task behind_a_tls_proxy_the_server_is_told_of_the_sites_cookie_is_secure()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:AccessControl", "true"), ("Ledger:AdminToken", AdminSecret),
            ("Ledger:EmbeddedTrainer", "false"), ("Ledger:TrustedProxies:0", "127.0.0.1"));
        var address = app.StartOnKestrel();
        async Task<string> SessionCookie(bool viaTls)
        {
            using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(address) };
            var signedIn = await SiteSession.SignInAsync(client, AdminSecret, carryCookies: true,
                edit: post => { if (viaTls) post.Headers.Add("X-Forwarded-Proto", "https"); });
            signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect, await signedIn.Content.ReadAsStringAsync());
            return SiteSession.SessionCookie(signedIn);
        }
        (await SessionCookie(viaTls: true)).ShouldContain("secure", Case.Insensitive);
        (await SessionCookie(viaTls: false)).ShouldNotContain("secure", Case.Insensitive, "reached over plain http, directly");
    }

    [Fact]
    public void plain_http_beyond_this_machine_is_warned_about_at_start_and_a_proxy_must_be_an_address()
    {
        var logs = new LogSink();
        var logger = logs.CreateLogger("start");
        var team = new LedgerOptions { AccessControl = true, AdminToken = AdminSecret };
        AccessRegistration.CheckAtStart(team, ["http://0.0.0.0:5080"], logger).ShouldBeNull();
        logs.Messages.ShouldContain(m => m.Contains("over plain http") && m.Contains("in clear"));
        var quiet = new LogSink();
        AccessRegistration.CheckAtStart(team, ["http://127.0.0.1:5080"], quiet.CreateLogger("start")).ShouldBeNull();
        AccessRegistration.CheckAtStart(new LedgerOptions { AccessControl = true, AdminToken = AdminSecret, TrustedProxies = ["10.0.0.5"] },
            ["http://0.0.0.0:5080"], quiet.CreateLogger("start")).ShouldBeNull();
        quiet.Messages.ShouldNotContain(m => m.Contains("plain http"));
        AccessRegistration.CheckAtStart(new LedgerOptions { TrustedProxies = ["proxy.lan"] }, [], logger)!.ShouldContain("not an IP address");
    }

    [Fact]
    public async Task a_teams_signing_key_is_read_as_openssl_writes_it_and_a_server_without_one_says_how_to_make_one()
    {
        // Base64 DER of the EC key itself, as `openssl genpkey ... -outform DER | base64` writes it (scripts/compose-secrets.sh).
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var expected = Domain.Ledger.ExportSignature.Fingerprint(key.ExportSubjectPublicKeyInfo());
        await using (var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"),
                         ("Ledger:SigningKey", Convert.ToBase64String(key.ExportECPrivateKey()))))
            (await StudyApi.GetAsync(app.CreateClient(), "/api/ledger"))["fingerprint"]!.GetValue<string>().ShouldBe(expected);

        // The real Server on a team's database with no key: it stops before it serves, and says how to make one.
        var database = "t_" + Guid.NewGuid().ToString("N")[..16];
        await pg.Postgres.CreateDatabaseAsync(database);
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ScalingLedger.Server.dll"), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
            Environment = { ["ConnectionStrings__Ledger"] = pg.Postgres.ConnectionString(database), ["Ledger__EmbeddedTrainer"] = "false" },
        };
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.ShouldBe(1, error);
        error.ShouldContain("Ledger__SigningKeyFile");
        error.ShouldContain("openssl genpkey");
    }

    [Fact]
    public async Task team_sh_refuses_a_directory_another_user_owns_or_anyone_may_write()
    {
        var script = Path.Combine(TeamTopology.Root, "scripts", "team.sh");
        var theirs = Path.Combine(Path.GetTempPath(), $"sl-theirs-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(theirs);
        await File.WriteAllTextAsync(Path.Combine(theirs, "team.env"), "touch /tmp/sourced-by-team-sh\n");
        var open = Path.Combine(Path.GetTempPath(), $"sl-open-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(open);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777
        try
        {
            if (Environment.UserName == "root") await Run("chown", "nobody", theirs);
            var refusals = new[] { (theirs, Environment.UserName == "root" ? "belongs to another user" : ""), (open, "can be written by other users") };
            foreach (var (dir, says) in refusals)
            {
                foreach (var verb in new[] { "start", "status", "stop" })
                {
                    var (exit, output) = await Run(script, verb, "--dir", dir, "--no-build");
                    exit.ShouldNotBe(0, $"{verb} {dir}: {output}");
                    output.ShouldContain(says);
                }
            }
            File.Exists("/tmp/sourced-by-team-sh").ShouldBeFalse("team.env of a directory not its own was never sourced");
        }
        finally
        {
            Directory.Delete(theirs, true);
            Directory.Delete(open, true);
        }
    }

    private static async Task<(int Exit, string Output)> Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var (o, e) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync();
        return (process.ExitCode, await o + await e);
    }
}
