using System.Text.RegularExpressions;

namespace ScalingLedger.Server.Tests;

/// <summary>The site's sign-in as a browser goes through it: the form (its antiforgery field and cookie), then the post.</summary>
internal static partial class SiteSession
{
    /// <summary>
    /// Signs in with <paramref name="token"/>. <paramref name="carryCookies"/>: the client keeps no cookies itself, so the form's
    /// cookie is sent by hand. <paramref name="edit"/> changes the post before it is sent (a header a proxy would add).
    /// </summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string token, string returnUrl = "/studies",
        bool carryCookies = false, Action<HttpRequestMessage>? edit = null)
    {
        var form = await client.GetAsync("/signin");
        var field = AntiforgeryField().Match(await form.Content.ReadAsStringAsync());
        field.Success.ShouldBeTrue("the sign-in form carries its antiforgery field");
        var post = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                [field.Groups[1].Value] = field.Groups[2].Value, ["token"] = token, ["returnUrl"] = returnUrl,
            }),
        };
        if (carryCookies && form.Headers.TryGetValues("Set-Cookie", out var cookies))
            post.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => c.Split(';')[0])));
        edit?.Invoke(post);
        return await client.SendAsync(post);
    }

    /// <summary>The site's session cookie an answer set (name=value, then its attributes).</summary>
    public static string SessionCookie(HttpResponseMessage signedIn) =>
        signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ScalingLedger=", StringComparison.Ordinal));

    [GeneratedRegex("name=\"(__RequestVerificationToken[^\"]*)\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
