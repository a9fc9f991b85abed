using System.Reflection;
using JwtApi.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace JwtApi.Hosting;

public static class ApiDocsSetup
{
    public const string BearerScheme = "Bearer";
    public const string OAuth2Scheme = "OAuth2";

    /// <summary>
    /// A registered client's flow: offered in the Authorize dialog, never required by an operation here, because a
    /// client's token is for another API (its audience), never for JwtApi's own endpoints.
    /// </summary>
    public const string ClientCredentialsScheme = "OAuth2ClientCredentials";

    /// <summary>
    /// The OpenAPI document and Swagger UI. The operations that need a token name two schemes, either of which
    /// will do: a pasted Bearer token, or OAuth2's password flow, where Swagger UI's Authorize dialog takes a
    /// username and password and gets the token from <c>POST /token</c> itself.
    /// </summary>
    public static IHostApplicationBuilder AddApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "JwtApi",
                Version = "v1",
                Description = "Stateless JWT authentication. In Swagger UI, 'Authorize' with a username and password " +
                              "(OAuth2, password flow), or paste an access token from POST /login (Bearer).",
            });
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
            options.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An access token from POST /login (paste the token alone, without 'Bearer ').",
            });
            options.AddSecurityDefinition(OAuth2Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.OAuth2,
                Description = "A username and password, exchanged at POST /token (leave client_id and client_secret empty).",
                Flows = new OpenApiOAuthFlows
                {
                    Password = new OpenApiOAuthFlow
                    {
                        // made absolute for each request by TokenUrlFilter
                        TokenUrl = new Uri(TokenEndpoint.Path, UriKind.Relative),
                        RefreshUrl = new Uri(TokenEndpoint.Path, UriKind.Relative),
                        Scopes = new Dictionary<string, string>(),
                    },
                },
            });
            options.AddSecurityDefinition(ClientCredentialsScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.OAuth2,
                Description = "A registered client's client_id and client_secret (POST /clients), exchanged at POST /token for a " +
                              "token for one of the client's APIs. JwtApi's own endpoints take users' tokens, not these.",
                Flows = new OpenApiOAuthFlows
                {
                    ClientCredentials = new OpenApiOAuthFlow
                    {
                        TokenUrl = new Uri(TokenEndpoint.Path, UriKind.Relative),
                        Scopes = new Dictionary<string, string>(),
                    },
                },
            });
            options.OperationFilter<BearerRequirementFilter>();
            options.OperationFilter<FormBodyFilter>();
        });
        return builder;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapSwagger(setupAction: swagger => swagger.PreSerializeFilters.Add(TokenUrlFilter.Apply)).AllowAnonymous();
        // Swagger UI's middleware matches every request's path with a regex and then looks for an embedded file:
        // only requests under its prefix enter its branch
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/swagger"), docs => docs.UseSwaggerUI(ui => ui.DocumentTitle = "JwtApi"));
        return app;
    }
}

/// <summary>
/// The token URL as the caller reached the service (scheme, host, path base), as the discovery document
/// gives it: OpenAPI asks for a URL, and a relative one is resolved differently by different tools.
/// </summary>
internal static class TokenUrlFilter
{
    public static void Apply(OpenApiDocument document, HttpRequest request)
    {
        if (document.Components?.SecuritySchemes is not { } schemes)
        {
            return;
        }
        var url = new Uri($"{request.Scheme}://{request.Host}{request.PathBase}{TokenEndpoint.Path}");
        if (schemes.TryGetValue(ApiDocsSetup.OAuth2Scheme, out var scheme) && scheme is OpenApiSecurityScheme { Flows.Password: { } flow })
        {
            flow.TokenUrl = url;
            flow.RefreshUrl = url;
        }
        if (schemes.TryGetValue(ApiDocsSetup.ClientCredentialsScheme, out var clients) &&
            clients is OpenApiSecurityScheme { Flows.ClientCredentials: { } clientFlow })
        {
            clientFlow.TokenUrl = url;
        }
    }
}

/// <summary>
/// Marks the operations that need a token, and only those, so Swagger UI sends it where it belongs. Either
/// scheme satisfies an operation (OpenAPI lists alternatives as separate requirements).
/// </summary>
internal sealed class BearerRequirementFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
        {
            return;
        }
        operation.Security ??= [];
        foreach (var scheme in new[] { ApiDocsSetup.BearerScheme, ApiDocsSetup.OAuth2Scheme })
        {
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [],
            });
        }
    }
}

/// <summary>
/// Endpoint metadata: the handler reads a form of this shape itself. Unlike <c>Accepts&lt;T&gt;</c> it leaves
/// the content type to the handler, so the handler chooses the error for a wrong one.
/// </summary>
public sealed record FormBody(Type Type);

/// <summary>Documents a <see cref="FormBody"/> as an application/x-www-form-urlencoded request body.</summary>
internal sealed class FormBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<FormBody>().FirstOrDefault() is not { } form)
        {
            return;
        }
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                [System.Net.Mime.MediaTypeNames.Application.FormUrlEncoded] = new OpenApiMediaType
                {
                    Schema = context.SchemaGenerator.GenerateSchema(form.Type, context.SchemaRepository),
                },
            },
        };
    }
}
