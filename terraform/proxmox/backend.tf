# State lives in PostgreSQL, which also locks it. The connection string and schema (one per environment)
# come from `terraform init -backend-config=...`, so no credentials are written here.
terraform {
  backend "pg" {}
}
