// Bedrock's modeled errors: HTTP status before the stream, and the union member name inside it.

export const ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  SerializationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  UnknownOperationException: 404,
};

const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  ThrottlingException: "Too many tokens, please wait before trying again.",
  ModelNotReadyException: "Model is not ready to serve inference requests. The model is still loading.",
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ResourceNotFoundException: "The requested resource could not be found.",
  ModelTimeoutException: "Model has timed out in processing the request. Try your request again.",
  ModelErrorException: "The system encountered an unexpected error during processing. Try your request again.",
  ModelStreamErrorException: "The system encountered an unexpected error during processing. Try your request again.",
  InternalServerException: "The system encountered an unexpected error during processing. Try your request again.",
  ServiceUnavailableException: "Bedrock is unable to process your request.",
};

export class BedrockError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly status: number = ERROR_STATUS[errorName] ?? 400,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export function defaultErrorMessage(name: string): string {
  return DEFAULT_MESSAGES[name] ?? `${name} raised by the Bedrock emulator.`;
}

/** `throttlingException`: the event-stream union member name the SDK maps to its error class. */
export function streamExceptionType(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** `ThrottlingException`: the error shape name used in headers and status lookups. */
export function errorShapeName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function errorTypeHeader(name: string): string {
  return `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
}
