output "hosts" {
  description = "Host name -> { ip, role, groups }, as terraform/proxmox gives it (apply-infra makes the inventory from it)."
  value = {
    for name, h in module.spark_hosts.hosts : name => {
      ip     = terraform_data.host[name].output.ip
      role   = h.role
      groups = h.groups
    }
  }
}
