# One root for every environment: the environment file decides the hosts, the backend config the state.
module "spark_hosts" {
  source           = "../modules/spark-hosts"
  environment_file = "${path.module}/../../environments/${var.environment}.yaml"
}

locals {
  hypervisor = module.spark_hosts.hypervisor
  network    = module.spark_hosts.network
  # Image and snippet are node-local files: every node that runs a VM needs its own copy.
  nodes = toset([for h in module.spark_hosts.hosts : h.node])
}

provider "proxmox" {
  endpoint  = coalesce(var.proxmox_endpoint, "https://${local.hypervisor.address}:8006/")
  api_token = var.proxmox_api_token
  insecure  = var.proxmox_insecure

  ssh {
    agent    = true
    username = var.proxmox_ssh_username

    # Reach each node at the address the environment file gives, not whatever its name resolves to.
    dynamic "node" {
      for_each = module.spark_hosts.hypervisors
      content {
        name    = node.value.node
        address = node.value.address
      }
    }
  }
}

# Downloaded by the node itself. The iso content type (file name ending in .img) works on every Proxmox VE 8
# release. The environment is in the file name because environments may share a node, and each state must
# own its own file.
resource "proxmox_virtual_environment_download_file" "cloud_image" {
  for_each = local.nodes

  content_type = "iso"
  datastore_id = var.cloud_image_datastore
  node_name    = each.value
  url          = var.cloud_image_url
  file_name    = "spark-${var.environment}-${replace(basename(var.cloud_image_url), "/\\.(qcow2|img|raw)$/", "")}.img"
  # A "latest" URL changes under us; do not fetch again on every plan. Replace the resource to update.
  overwrite = false
}

# Cloud images lack the guest agent the VMs are configured to use; vendor data installs it at first boot.
resource "proxmox_virtual_environment_file" "vendor_data" {
  for_each = local.nodes

  content_type = "snippets"
  datastore_id = var.cloud_image_datastore
  node_name    = each.value

  source_raw {
    file_name = "spark-${var.environment}-vendor-data.yaml"
    data      = <<-EOT
      #cloud-config
      package_update: true
      packages:
        - qemu-guest-agent
      runcmd:
        - systemctl enable --now qemu-guest-agent
    EOT
  }
}

module "vm" {
  source   = "../modules/proxmox-vm"
  for_each = module.spark_hosts.hosts

  name        = each.key
  node_name   = each.value.node
  description = each.value.description
  tags        = each.value.tags
  protected   = each.value.protected

  cpu_cores = each.value.cpu
  memory_gb = each.value.memory_gb

  datastore_id   = each.value.storage
  image_file_id  = proxmox_virtual_environment_download_file.cloud_image[each.value.node].id
  system_disk_gb = each.value.system_disk_gb
  data_disks     = each.value.data_disks

  ipv4_address = each.value.cidr
  gateway      = local.network.gateway
  dns_servers  = local.network.dns
  bridge       = each.value.bridge
  vlan_id      = local.network.vlan

  username            = var.vm_username
  ssh_public_keys     = var.ssh_public_keys
  vendor_data_file_id = proxmox_virtual_environment_file.vendor_data[each.value.node].id
}
