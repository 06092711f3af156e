/** Media types of the Docker schema 2 and OCI image formats. */
export const MediaType = {
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DOCKER_CONFIG: 'application/vnd.docker.container.image.v1+json',
  DOCKER_LAYER: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  OCI_LAYER: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OCI_LAYER_UNCOMPRESSED: 'application/vnd.oci.image.layer.v1.tar',
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
} as const;

/** Every manifest type the client accepts, in preference order (sent as `Accept`). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OCI_MANIFEST,
  MediaType.DOCKER_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.DOCKER_MANIFEST_LIST,
];

/** True for image indexes / manifest lists (multi-platform). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OCI_INDEX || mediaType === MediaType.DOCKER_MANIFEST_LIST;
}
