# The local environment's hosts, made on this machine instead of on Proxmox: the same environment file and the
# same spark-hosts module as terraform/proxmox, but each VM is a terraform_data resource whose provisioners boot
# and stop a host in namespaces with scripts/local-host.ts (a Debian root with systemd and sshd, on a bridge of
# this machine). Removing a host from environments/local.yaml destroys it: its destroy-time provisioner stops it
# and deletes its disk. Everything a destroy-time provisioner needs is in the resource's own input.
module "spark_hosts" {
  source           = "../modules/spark-hosts"
  environment_file = "${path.module}/../../environments/${var.environment}.yaml"
}

locals {
  network = module.spark_hosts.network
  # Run from the repository's own tsx, so the helper is the one this checkout carries.
  helper = "${path.module}/../../node_modules/.bin/tsx ${path.module}/../../scripts/local-host.ts"
}

# The bridge the hosts hang on, with this machine at the gateway address.
resource "terraform_data" "network" {
  input = {
    bridge  = local.network.bridge
    gateway = local.network.gateway
    prefix  = local.network.prefix_length
    helper  = local.helper
  }

  provisioner "local-exec" {
    command = "${self.input.helper} network-up --bridge ${self.input.bridge} --gateway ${self.input.gateway} --prefix ${self.input.prefix}"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "${self.input.helper} network-down --bridge ${self.input.bridge}"
  }
}

resource "terraform_data" "host" {
  for_each = module.spark_hosts.hosts

  input = {
    name    = each.key
    ip      = each.value.ip
    role    = each.value.role
    cpu     = each.value.cpu
    memory  = each.value.memory_gb
    bridge  = terraform_data.network.output.bridge
    gateway = terraform_data.network.output.gateway
    prefix  = terraform_data.network.output.prefix
    helper  = local.helper
  }
  # As with a Proxmox VM: a new address, network or key means a new host.
  triggers_replace = [each.value.ip, terraform_data.network.output, var.ssh_public_keys]

  provisioner "local-exec" {
    command = "${self.input.helper} create --name ${self.input.name} --ip ${self.input.ip} --bridge ${self.input.bridge} --gateway ${self.input.gateway} --prefix ${self.input.prefix}"
    environment = {
      SPARK_HOST_AUTHORIZED_KEY = join("\n", var.ssh_public_keys)
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "${self.input.helper} destroy --name ${self.input.name}"
  }
}
