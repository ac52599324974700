using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ScalingLedger.Server.Hosting;

/// <summary>
/// The shape of the API document (<c>/openapi/v1.json</c>), in one place: the bearer scheme of the API tokens and which
/// operations need it, the tags with their descriptions, a server address without a trailing slash, and the problem
/// answers (RFC 9457 ProblemDetails) each operation can give. Each endpoint names its own operation id and summary.
/// </summary>
public static class ApiDocument
{
    /// <summary>The security scheme's name in the document.</summary>
    public const string Bearer = "bearer";

    private static readonly Dictionary<string, string> Tags = new()
    {
        ["Studies"] = "Define, import, read, verify, cancel and compare studies; each study's events, fits and coordinate checks.",
        ["Predictions"] = "A prediction's audit: its fit, its evidence, and whether re-deriving the fit reproduces it.",
        ["Access"] = "API tokens (admins) and who the caller is.",
        ["Health"] = "Whether the Server can do its work now.",
    };

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "sl_<id>_<secret>",
                Description = "An API token (POST /api/tokens, or the first admin's Ledger:AdminToken), when access control is on. " +
                              "A local ledger without access control answers loopback callers without one.",
            };
            document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var anonymous = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any();
            operation.Security = anonymous
                ? []
                : [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] }];
            RequireBody(operation, optional: context.Description.ActionDescriptor.EndpointMetadata.OfType<OptionalBody>().Any());
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// A handler that names every missing field takes its body as nullable, so the document inferred <c>oneOf [null, X]</c>:
    /// a client sends an X (a missing body is answered with the fields it lacks), so the body is declared as X, required
    /// unless the endpoint says it may be left out (<see cref="WithOptionalBody"/>).
    /// </summary>
    private static void RequireBody(OpenApiOperation operation, bool optional)
    {
        if (operation.RequestBody is not OpenApiRequestBody declared) return;
        foreach (var media in declared.Content?.Values ?? [])
        {
            if (media.Schema is not OpenApiSchema { OneOf: { Count: 2 } either }) continue;
            var bodies = either.Where(s => s is not OpenApiSchema { Type: JsonSchemaType.Null }).ToList();
            if (bodies.Count != 1) continue;
            media.Schema = bodies[0];
            declared.Required = !optional;
        }
    }

    /// <summary>The endpoint's body may be left out: each of its settings has a default.</summary>
    public sealed class OptionalBody;

    /// <summary>Says the endpoint's body may be left out (each of its settings has a default); the document declares it optional.</summary>
    public static TBuilder WithOptionalBody<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OptionalBody());

    /// <summary>
    /// Declares the body of an endpoint whose handler reads the request itself (to name every bad field, or to stream it):
    /// the document shows it, and nothing but the handler and <c>Accepting</c> (whose 415 names the media types) enforce it.
    /// </summary>
    public static TBuilder WithBody<TBuilder>(this TBuilder builder, Type body, string mediaType, bool required = true)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancel) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(body, null, cancel);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = required,
                Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new OpenApiMediaType { Schema = schema } },
            };
        });

    /// <summary>
    /// Declares a query parameter that the handler reads itself (to name a bad value in its 400): its type, and the values
    /// it takes where they are a few.
    /// </summary>
    public static TBuilder WithQuery<TBuilder>(this TBuilder builder, string name, JsonSchemaType type, string description, bool required = false,
        params string[] values) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            // A handler that parses a value itself (to name a bad one) binds it as text: the document says what it takes.
            foreach (var inferred in operation.Parameters.Where(p => p.Name == name && p.In == ParameterLocation.Query).ToList())
                operation.Parameters.Remove(inferred);
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Query, Required = required, Description = description,
                Schema = new OpenApiSchema
                {
                    Type = type,
                    Enum = values.Length == 0 ? null : values.Select(v => (System.Text.Json.Nodes.JsonNode)v).ToList(),
                },
            });
            return Task.CompletedTask;
        });

    /// <summary>What any operation can answer: 403 (not allowed: the role, the study, a foreign origin or address) and 500;
    /// 401 too where a token is needed.</summary>
    public static TBuilder WithLedgerProblems<TBuilder>(this TBuilder builder, bool signedIn = true) where TBuilder : IEndpointConventionBuilder
    {
        if (signedIn) builder.ProducesProblem(StatusCodes.Status401Unauthorized);
        return builder.ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status500InternalServerError);
    }

    /// <summary>A request the Server refuses as malformed: a body, route or query value, each error named.</summary>
    public static TBuilder WithBadRequest<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblem(StatusCodes.Status400BadRequest);

    /// <summary>No such study, prediction or token.</summary>
    public static TBuilder WithNotFound<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblem(StatusCodes.Status404NotFound);
}
