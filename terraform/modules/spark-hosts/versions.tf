# Pure module: it only reads and reshapes an environment file, so it needs no provider and can be
# planned and applied anywhere, without credentials or a provider download.
terraform {
  required_version = ">= 1.6"
}
