// OpenAI image parts → Bedrock image blocks. Only inline data: URLs: the broker never fetches a URL
// on a client's behalf (that would let any request make the broker reach internal hosts).
import type { ContentBlock, ImageFormat } from "@aws-sdk/client-bedrock-runtime";
import { invalidRequest } from "../../errors.js";

const FORMATS: Record<string, ImageFormat> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

export function imageBlockFromUrl(url: string, param: string): ContentBlock {
  const match = DATA_URL.exec(url);
  if (!match) {
    const shown = url.length > 60 ? `${url.slice(0, 60)}…` : url;
    throw invalidRequest(
      `Remote image URLs are not supported (${shown}): the broker never fetches URLs for a client. ` +
        "Send the image inline as a base64 data: URL (data:image/png;base64,...).",
      param,
      "unsupported_image_url",
    );
  }
  const mime = (match[1] ?? "").toLowerCase();
  const format = FORMATS[mime];
  if (!format) {
    throw invalidRequest(
      `Unsupported image type "${mime}"; Bedrock accepts image/png, image/jpeg, image/gif and image/webp.`,
      param,
      "unsupported_image_type",
    );
  }
  const encoded = (match[2] ?? "").replace(/\s+/g, "");
  if (encoded === "") throw invalidRequest("The image data URL holds no data.", param, "invalid_image");
  // Node's decoder skips what isn't base64: check first, or a corrupt image reaches Bedrock as bytes.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 === 1) {
    throw invalidRequest("The image data URL is not valid base64 (only A-Z, a-z, 0-9, + and /, with = padding at the end).", param, "invalid_image");
  }
  const bytes = Buffer.from(encoded, "base64");
  return { image: { format, source: { bytes } } };
}
