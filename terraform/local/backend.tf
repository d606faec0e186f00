# State in PostgreSQL, as for terraform/proxmox. `npm run rehearse` passes conn_str and schema_name through
# plan-infra's and apply-infra's backend-config input, pointing at its embedded state database.
terraform {
  backend "pg" {}
}
